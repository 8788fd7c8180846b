"""Segmentation matrices: validation, the listed combinations and the bucket of an event.

Three wire forms (an optional ``"type"`` of ``SINGLE``, ``DOUBLE`` or ``LINKED`` may accompany
them and must match the shape):

- single: ``{"key": "region", "values": ["eu", "us"]}``
- double: ``{"dimension1": {"key", "values"}, "dimension2": {"key", "values"}}`` — every pair
- linked: ``{"dimension_key": "cloud", "linked_dimension_key": "region",
  "values": {"aws": ["us-east-1"], "gcp": ["europe-west1"]}}`` — the second dimension's allowed
  values depend on the first

An event whose values are missing or not a listed combination falls into the ``other`` bucket.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

MAX_VALUES = 1000
MAX_VALUE_LENGTH = 255
OTHER = None  # the bucket of events outside the matrix


class MatrixError(ValueError):
    pass


def canonical_string(value) -> str | None:
    """The string an event property is compared and grouped by (None when absent).

    Strings stay as they are; numbers and booleans use their JSON spelling (``1``, ``1.5``,
    ``true``), so ``1`` and ``"1"`` are the same value but ``1.0`` is not.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def storable(value: str) -> str:
    """Fit a grouping value into a 255-character column without merging different values."""
    if len(value) <= MAX_VALUE_LENGTH:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _key(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MatrixError(f"{where} must be a non-empty string.")
    if len(value) > MAX_VALUE_LENGTH:
        raise MatrixError(f"{where} must be at most {MAX_VALUE_LENGTH} characters.")
    if "\x00" in value:
        raise MatrixError(f"{where} must not contain NUL characters.")
    return value


def _values(values, where: str) -> list[str]:
    if not isinstance(values, list) or not values:
        raise MatrixError(f"{where} must be a non-empty list of strings.")
    if len(values) > MAX_VALUES:
        raise MatrixError(f"{where} may list at most {MAX_VALUES} values.")
    cleaned = [_key(value, f"{where}[{index}]") for index, value in enumerate(values)]
    if len(set(cleaned)) != len(cleaned):
        raise MatrixError(f"{where} lists a value twice.")
    return cleaned


def _dimension(raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise MatrixError(f"{where} must be an object with 'key' and 'values'.")
    unknown = set(raw) - {"key", "values"}
    if unknown:
        raise MatrixError(f"{where} has unknown fields: {', '.join(sorted(unknown))}.")
    return {
        "key": _key(raw.get("key"), f"{where}.key"),
        "values": _values(raw.get("values"), f"{where}.values"),
    }


def normalize(raw) -> dict | None:
    """Validate a matrix from the wire and return its canonical form (``None`` for no matrix)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MatrixError("segmentation_matrix must be an object.")
    raw = dict(raw)
    declared = raw.pop("type", None)
    if "dimension1" in raw or "dimension2" in raw:
        form = "DOUBLE"
        unknown = set(raw) - {"dimension1", "dimension2"}
        if unknown:
            raise MatrixError(f"unknown fields: {', '.join(sorted(unknown))}.")
        first = _dimension(raw.get("dimension1"), "dimension1")
        second = _dimension(raw.get("dimension2"), "dimension2")
        if first["key"] == second["key"]:
            raise MatrixError("dimension1 and dimension2 must use different keys.")
        matrix = {"dimension1": first, "dimension2": second}
    elif "dimension_key" in raw or "linked_dimension_key" in raw:
        form = "LINKED"
        unknown = set(raw) - {"dimension_key", "linked_dimension_key", "values"}
        if unknown:
            raise MatrixError(f"unknown fields: {', '.join(sorted(unknown))}.")
        key = _key(raw.get("dimension_key"), "dimension_key")
        linked_key = _key(raw.get("linked_dimension_key"), "linked_dimension_key")
        if key == linked_key:
            raise MatrixError("dimension_key and linked_dimension_key must differ.")
        values = raw.get("values")
        if not isinstance(values, dict) or not values:
            raise MatrixError("values must be an object mapping each value to its linked values.")
        if len(values) > MAX_VALUES:
            raise MatrixError(f"values may list at most {MAX_VALUES} values.")
        linked = {
            _key(value, "values key"): _values(children, f"values.{value}")
            for value, children in values.items()
        }
        matrix = {"dimension_key": key, "linked_dimension_key": linked_key, "values": linked}
    elif "key" in raw or "values" in raw:
        form = "SINGLE"
        matrix = _dimension(raw, "segmentation_matrix")
    else:
        raise MatrixError(
            "segmentation_matrix must be {key, values}, {dimension1, dimension2} or "
            "{dimension_key, linked_dimension_key, values}."
        )
    if declared is not None and declared != form:
        raise MatrixError(f"type is {declared!r} but the matrix has the {form} shape.")
    return matrix


@dataclass(frozen=True)
class Matrix:
    """A canonical matrix ready to classify events."""

    keys: tuple[str, ...]
    combinations: tuple[tuple[str, str], ...]
    allowed: frozenset = field(default=frozenset(), compare=False)

    def __post_init__(self):
        object.__setattr__(self, "allowed", frozenset(self.combinations))

    @classmethod
    def of(cls, matrix: dict | None) -> Matrix | None:
        if not matrix:
            return None
        if "dimension1" in matrix:
            first, second = matrix["dimension1"], matrix["dimension2"]
            combinations = tuple((a, b) for a in first["values"] for b in second["values"])
            return cls((first["key"], second["key"]), combinations)
        if "dimension_key" in matrix:
            combinations = tuple(
                (value, linked)
                for value, children in matrix["values"].items()
                for linked in children
            )
            return cls((matrix["dimension_key"], matrix["linked_dimension_key"]), combinations)
        return cls((matrix["key"],), tuple((value, "") for value in matrix["values"]))

    def bucket(self, properties: dict) -> tuple[str, str] | None:
        """The listed combination of an event, or ``OTHER``."""
        values = tuple(canonical_string(properties.get(key)) for key in self.keys)
        if any(value is None for value in values):
            return OTHER
        combination = values if len(values) == 2 else (values[0], "")
        return combination if combination in self.allowed else OTHER

    def dimensions(self, combination: tuple[str, str]) -> dict[str, str]:
        return dict(zip(self.keys, combination[: len(self.keys)], strict=True))
