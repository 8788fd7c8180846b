"""The field catalogue: every field a filter may name, in both syntaxes, and what it reads.

One entry per cost-row dimension. ``name`` is the canonical name, used in the stored tree and in
the structured (Archera) syntax; ``vql`` is its name in VQL (``vql_aliases`` are other VQL
spellings of the same field). Tags are not entries: ``tag:<key>`` (structured) and
``tags.name`` / ``tags.value`` (VQL) read the cost row's ``tags`` object.
"""

from __future__ import annotations

from dataclasses import dataclass

from costs.models import Provider

PROVIDERS: tuple[str, ...] = tuple(Provider.values)
ALL_PROVIDERS = frozenset(PROVIDERS)

# Operators of the tree. ``in`` with one value is "=", ``not_in`` with one value is "!=".
IN = "in"
NOT_IN = "not_in"
LIKE = "like"
NOT_LIKE = "not_like"
VALUE_OPS = (IN, NOT_IN, LIKE, NOT_LIKE)
# Tag presence: with a key, "the row has this tag"; without (key None), "the row has any tag".
EXISTS = "exists"
NOT_EXISTS = "not_exists"
TAG_OPS = (EXISTS, NOT_EXISTS, *VALUE_OPS)

NEGATION = {
    IN: NOT_IN,
    NOT_IN: IN,
    LIKE: NOT_LIKE,
    NOT_LIKE: LIKE,
    EXISTS: NOT_EXISTS,
    NOT_EXISTS: EXISTS,
}

TAG_PREFIX = "tag:"  # structured field of one tag: "tag:environment"
TAGS_FIELD = "tags"  # structured field of the whole tag set: {"field": "tags", "op": "not_exists"}
VQL_TAG_NAME = "tags.name"
VQL_TAG_VALUE = "tags.value"
VQL_ALLOCATION = "costs.allocation"


@dataclass(frozen=True)
class Field:
    name: str
    column: str
    vql: str
    label: str
    vql_aliases: tuple[str, ...] = ()
    providers: frozenset[str] = ALL_PROVIDERS
    like: bool = True  # LIKE / contains make sense on this field at all
    vql_like: bool = True  # Vantage refuses LIKE on account ids, region and service
    archera: bool = False  # a field of Archera's filter-values endpoint

    @property
    def ops(self) -> tuple[str, ...]:
        return VALUE_OPS if self.like else (IN, NOT_IN)

    def available_for(self, provider: str) -> bool:
        return provider in self.providers


AWS_ONLY = frozenset({"aws"})

FIELDS: dict[str, Field] = {
    field.name: field
    for field in (
        Field("provider", "provider", "costs.provider", "Provider", like=False),
        Field(
            "integration_id",
            "integration_id",
            "costs.integration_id",
            "Integration",
            like=False,
            archera=True,
        ),
        Field(
            "account_id",
            "sub_account_id",
            "costs.account_id",
            "Account",
            vql_aliases=("costs.provider_account_id",),
            vql_like=False,
            archera=True,
        ),
        Field("service", "service_name", "costs.service", "Service", vql_like=False, archera=True),
        Field("region", "region_id", "costs.region", "Region", vql_like=False, archera=True),
        Field("category", "service_category", "costs.category", "Category"),
        Field("subcategory", "service_subcategory", "costs.subcategory", "Subcategory"),
        Field("resource_id", "resource_id", "costs.resource_id", "Resource"),
        Field("charge_type", "charge_category", "costs.charge_type", "Charge type"),
        Field(
            "operating_system",
            "operating_system",
            "costs.operating_system",
            "Operating system",
            providers=AWS_ONLY,
            archera=True,
        ),
        Field(
            "tenancy",
            "tenancy",
            "costs.tenancy",
            "Tenancy",
            providers=AWS_ONLY,
            archera=True,
        ),
        Field(
            "instance_family",
            "instance_family",
            "costs.instance_family",
            "Instance family",
            providers=AWS_ONLY,
            archera=True,
        ),
    )
}

VQL_FIELDS: dict[str, Field] = {
    vql_name: field for field in FIELDS.values() for vql_name in (field.vql, *field.vql_aliases)
}

# Archera's filter-values endpoint lists these, in this order (the last three for AWS only).
ARCHERA_FIELDS: tuple[str, ...] = tuple(name for name, f in FIELDS.items() if f.archera)


def fields_for_provider(provider: str) -> list[Field]:
    """The fields available on ``provider``'s cost rows."""
    return [field for field in FIELDS.values() if field.available_for(provider)]


def vql_field_names() -> list[str]:
    """Every field name VQL accepts, for error messages and the docs."""
    return [*VQL_FIELDS, VQL_ALLOCATION, VQL_TAG_NAME, VQL_TAG_VALUE]


def structured_field_names() -> list[str]:
    return [*FIELDS, f"{TAG_PREFIX}<key>", TAGS_FIELD]
