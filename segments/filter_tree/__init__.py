"""The segment filter language: one filter tree under two syntaxes (VQL and structured JSON).

See docs/filter-language.md. Public API:

- ``parse_vql(text)`` / ``render_vql(node)``: Vantage's VQL.
- ``parse_structured(data, provider)`` / ``render_structured(node, omit_provider=True)``:
  Archera's structured JSON conditions.
- ``to_json(node)`` / ``from_json(data)``: the canonical stored form.
- ``to_q(node)``: the Django ``Q`` over ``CostRow`` (also inside ``Case(When(...))``).
- ``providers_of(node)``, ``with_provider(node, provider)``, ``validate(node)``.
- ``FilterError``: every failure, with ``code``, ``position``, ``field`` and ``expected``.
"""

from .catalogue import FIELDS, PROVIDERS, Field
from .compiler import like_regex, to_q
from .errors import FilterError
from .structured import parse_structured, render_structured
from .tree import (
    MATCH_ALL,
    Condition,
    Group,
    Node,
    Not,
    TagCondition,
    from_json,
    names_provider,
    normalize,
    provider_scope,
    providers_of,
    to_json,
    validate,
    with_provider,
)
from .vql import MAX_LENGTH, parse_vql, render_vql

__all__ = [
    "FIELDS",
    "MATCH_ALL",
    "MAX_LENGTH",
    "PROVIDERS",
    "Condition",
    "Field",
    "FilterError",
    "Group",
    "Node",
    "Not",
    "TagCondition",
    "from_json",
    "like_regex",
    "names_provider",
    "normalize",
    "parse_structured",
    "parse_vql",
    "provider_scope",
    "providers_of",
    "render_structured",
    "render_vql",
    "to_json",
    "to_q",
    "validate",
    "with_provider",
]
