"""The filter tree: node types, canonical form, validation and provider scope.

One concern a module, each read in one sitting:

- ``nodes``: ``Condition``, ``TagCondition``, ``Group``, ``Not`` and ``MATCH_ALL``.
- ``like``: LIKE patterns (tokens, escaping, canonical spelling).
- ``normalize``: the canonical form, so that filters meaning the same thing compare equal.
- ``providers``: which providers' cost rows a tree can select.
- ``validation``: ``validate`` (shape, values, fields against providers) and ``with_provider``.
- ``stored``: ``to_json`` / ``from_json``, the stored form.

Every name is importable from here, as it was when this was one module.
"""

from .like import (
    ANY_ONE,
    ANY_RUN,
    ESCAPE,
    canonical_like,
    like_escape,
    like_pattern_for_substring,
    like_tokens,
    substring_of_like,
)
from .nodes import (
    AND,
    MATCH_ALL,
    MAX_DEPTH,
    OR,
    Condition,
    Group,
    Leaf,
    Node,
    Not,
    TagCondition,
)
from .normalize import negate, normalize, sort_key
from .providers import (
    names_provider,
    provider_condition,
    provider_names,
    provider_scope,
    providers_of,
)
from .stored import JSON_VERSION, from_json, to_json
from .validation import (
    Context,
    canonical_uuid,
    check_tag_key,
    check_text,
    default_namer,
    validate,
    with_provider,
)

__all__ = [
    "AND",
    "ANY_ONE",
    "ANY_RUN",
    "ESCAPE",
    "JSON_VERSION",
    "MATCH_ALL",
    "MAX_DEPTH",
    "OR",
    "Condition",
    "Context",
    "Group",
    "Leaf",
    "Node",
    "Not",
    "TagCondition",
    "canonical_like",
    "canonical_uuid",
    "check_tag_key",
    "check_text",
    "default_namer",
    "from_json",
    "like_escape",
    "like_pattern_for_substring",
    "like_tokens",
    "names_provider",
    "negate",
    "normalize",
    "provider_condition",
    "provider_names",
    "provider_scope",
    "providers_of",
    "sort_key",
    "substring_of_like",
    "to_json",
    "validate",
    "with_provider",
]
