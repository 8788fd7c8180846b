"""The filter tree: canonical form, equality and hashing, stored JSON, provider scope,
catalogue, and what the compiled Q selects (including inside CASE WHEN)."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db.models import Case, IntegerField, Sum, Value, When

from costs.models import CostRow
from segments.filter_tree import (
    FIELDS,
    MATCH_ALL,
    Condition,
    FilterError,
    Group,
    Not,
    TagCondition,
    from_json,
    normalize,
    parse_structured,
    parse_vql,
    providers_of,
    to_json,
    to_q,
    validate,
    with_provider,
)
from segments.filter_tree.catalogue import ARCHERA_FIELDS, fields_for_provider
from segments.filter_tree.compiler import like_regex
from segments.filter_tree.errors import position_of

from ..factories import IntegrationFactory, LegacyCostRowFactory

# --- nodes and canonical form --------------------------------------------------------------


def test_nodes_are_immutable_hashable_and_compare_by_value():
    a = Condition("service", "in", ("b", "a", "b"))
    b = Condition("service", "in", ["a", "b"])
    assert a == b
    assert hash(a) == hash(b)
    assert a.values == ("a", "b")
    assert len({a, b, Group("and", (a,)), Group("and", [b])}) == 2
    with pytest.raises(AttributeError):
        a.field = "region"


def test_normalize_flattens_sorts_and_dedups():
    service = Condition("service", "in", ("s",))
    region = Condition("region", "in", ("r",))
    tree = Group(
        "and", (region, Group("and", (service, region)), Condition("provider", "in", ("aws",)))
    )
    assert normalize(tree) == Group("and", (Condition("provider", "in", ("aws",)), service, region))


def test_normalize_merges_value_lists():
    tree = Group("or", (Condition("region", "in", ("a",)), Condition("region", "in", ("b", "a"))))
    assert normalize(tree) == Condition("region", "in", ("a", "b"))
    tree = Group(
        "and", (Condition("region", "not_in", ("a",)), Condition("region", "not_in", ("b",)))
    )
    assert normalize(tree) == Condition("region", "not_in", ("a", "b"))
    tags = Group("or", (TagCondition("k", "in", ("a",)), TagCondition("k", "in", ("b",))))
    assert normalize(tags) == TagCondition("k", "in", ("a", "b"))


def test_normalize_does_not_merge_across_meanings():
    tree = Group("and", (Condition("region", "in", ("a",)), Condition("region", "in", ("b",))))
    assert normalize(tree) == tree


def test_normalize_pushes_not_into_conditions_only_where_exact():
    assert normalize(Not(Condition("region", "in", ("a",)))) == Condition(
        "region", "not_in", ("a",)
    )
    assert normalize(Not(Condition("region", "like", ("a%",)))) == Condition(
        "region", "not_like", ("a%",)
    )
    assert normalize(Not(TagCondition("k", "exists"))) == TagCondition("k", "not_exists")
    assert normalize(Not(TagCondition(None, "not_exists"))) == TagCondition(None, "exists")
    # "not (has k with value a)" also holds for rows without k, unlike "has k with value != a"
    assert normalize(Not(TagCondition("k", "in", ("a",)))) == Not(TagCondition("k", "in", ("a",)))
    assert normalize(Not(Not(TagCondition("k", "in", ("a",))))) == TagCondition("k", "in", ("a",))


def test_normalize_is_idempotent_on_parsed_trees():
    tree = parse_vql(
        "costs.provider = 'aws' AND (costs.region = 'a' OR (costs.region = 'b' AND "
        "NOT (tags.name = 'k' AND tags.value LIKE '%x%')))"
    )
    assert normalize(tree) == tree


# --- stored JSON ---------------------------------------------------------------------------


def test_to_json_is_plain_stable_json():
    tree = parse_vql("costs.provider = 'aws' AND (tags.name = NULL OR costs.service IN ('b', 'a'))")
    stored = to_json(tree)
    assert stored == {
        "version": 1,
        "type": "and",
        "children": [
            {"type": "condition", "field": "provider", "op": "in", "values": ["aws"]},
            {
                "type": "or",
                "children": [
                    {"type": "condition", "field": "service", "op": "in", "values": ["a", "b"]},
                    {"type": "tag", "key": None, "op": "not_exists", "values": []},
                ],
            },
        ],
    }
    assert json.dumps(stored) == json.dumps(to_json(from_json(json.loads(json.dumps(stored)))))
    assert from_json(stored) == tree


def test_from_json_normalises_and_validates():
    stored = {
        "type": "or",
        "children": [
            {"type": "condition", "field": "region", "op": "in", "values": ["b"]},
            {"type": "condition", "field": "region", "op": "in", "values": ["a"]},
        ],
    }
    assert from_json(stored) == Condition("region", "in", ("a", "b"))


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        ([], "invalid"),
        ({"version": 2, "type": "and", "children": []}, "invalid"),
        ({"type": "xor", "children": []}, "invalid"),
        ({"type": "condition", "field": "colour", "op": "in", "values": ["x"]}, "unknown_field"),
        ({"type": "condition", "field": "region", "op": "~", "values": ["x"]}, "unknown_operator"),
        ({"type": "condition", "field": "region", "op": "in", "values": []}, "empty_list"),
        ({"type": "condition", "field": "region", "op": "in", "values": [1]}, "invalid_value"),
        (
            {"type": "condition", "field": "provider", "op": "like", "values": ["a%"]},
            "operator_not_allowed",
        ),
        (
            {"type": "condition", "field": "tenancy", "op": "in", "values": ["x"]},
            "provider_mismatch",
        ),
        ({"type": "tag", "key": None, "op": "in", "values": ["x"]}, "operator_not_allowed"),
        ({"type": "tag", "key": "k", "op": "exists", "values": ["x"]}, "invalid_value"),
        ({"type": "or", "children": []}, "empty_group"),
        ({"type": "not"}, "invalid"),
        ({"type": "condition", "field": "region", "op": "in", "values": "x"}, "invalid"),
    ],
)
def test_from_json_refuses_bad_trees(stored, code):
    with pytest.raises(FilterError) as caught:
        from_json(stored)
    assert caught.value.code == code


def test_from_json_refuses_deep_trees_without_recursing_far():
    stored: dict = {"type": "condition", "field": "region", "op": "in", "values": ["x"]}
    for _ in range(5000):
        stored = {"type": "not", "child": stored}
    with pytest.raises(FilterError) as caught:
        from_json(stored)
    assert caught.value.code == "too_deep"


def test_match_all_round_trips():
    assert from_json(to_json(MATCH_ALL)) == MATCH_ALL


# --- providers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "providers"),
    [
        ("costs.provider = 'aws' AND costs.service = 'x'", {"aws"}),
        ("costs.provider IN ('aws', 'gcp')", {"aws", "gcp"}),
        ("costs.provider != 'aws'", {"azure", "gcp"}),
        (
            "(costs.provider = 'aws' AND costs.service = 'x') OR costs.provider = 'gcp'",
            {"aws", "gcp"},
        ),
        ("costs.provider = 'aws' OR costs.service = 'x'", {"aws", "azure", "gcp"}),
        ("costs.provider = 'gcp' AND NOT (costs.provider = 'aws')", {"gcp"}),
    ],
)
def test_providers_of_is_the_set_of_providers_a_filter_can_select(text, providers):
    assert providers_of(parse_vql(text)) == providers


def test_with_provider_ands_the_provider_in_once():
    tree = Condition("service", "in", ("s",))
    scoped = with_provider(tree, "aws")
    assert scoped == Group("and", (Condition("provider", "in", ("aws",)), tree))
    assert with_provider(scoped, "aws") == scoped
    assert with_provider(None, "gcp") == Condition("provider", "in", ("gcp",))


def test_with_provider_refuses_another_providers_filter():
    with pytest.raises(FilterError) as caught:
        with_provider(parse_vql("costs.provider = 'gcp'"), "aws")
    assert caught.value.code == "provider_mismatch"
    with pytest.raises(FilterError) as caught:
        with_provider(parse_vql("costs.provider = 'aws' AND costs.tenancy = 'x'"), "azure")
    assert caught.value.code == "provider_mismatch"
    with pytest.raises(FilterError) as caught:
        with_provider(None, "oracle")
    assert caught.value.code == "unknown_provider"


def test_validate_accepts_valid_trees_and_names_bad_ones():
    validate(parse_vql("costs.provider = 'aws' AND costs.tenancy = 'x'"))
    with pytest.raises(FilterError) as caught:
        validate(Condition("tenancy", "in", ("x",)), scope={"gcp"})
    assert caught.value.code == "provider_mismatch"
    assert caught.value.field == "tenancy"


# --- catalogue -----------------------------------------------------------------------------


def test_catalogue_columns_exist_on_cost_rows():
    columns = {f.attname for f in CostRow._meta.get_fields() if hasattr(f, "attname")}
    for field in FIELDS.values():
        assert field.column in columns, field.name


def test_catalogue_matches_archera_filter_values_fields():
    assert ARCHERA_FIELDS == (
        "integration_id",
        "account_id",
        "service",
        "region",
        "operating_system",
        "tenancy",
        "instance_family",
    )
    assert {f.name for f in fields_for_provider("azure")} & {"tenancy", "instance_family"} == set()
    assert "tenancy" in {f.name for f in fields_for_provider("aws")}


def test_position_of_counts_lines_and_columns_from_one():
    assert position_of("ab\ncd", 4) == {"offset": 4, "line": 2, "column": 2}
    assert position_of("", 0) == {"offset": 0, "line": 1, "column": 1}


def test_error_string_includes_the_position():
    with pytest.raises(FilterError) as caught:
        parse_vql("costs.provider = 'aws'\n  AND costs.nope = 'x'")
    assert str(caught.value) == (
        "Line 2, column 7 (offset 29): Unknown field 'costs.nope'. VQL fields are "
        + caught.value.message.split("VQL fields are ", 1)[1]
    )
    assert caught.value.as_dict()["position"] == {"offset": 29, "line": 2, "column": 7}


# --- the compiled Q ------------------------------------------------------------------------


def test_like_regex_is_anchored_and_escaped():
    assert like_regex("a%b_c") == r"(?s)\Aa.*b.c\Z"
    assert like_regex(r"1\%.") == r"(?s)\A1%\.\Z"


@pytest.fixture
def rows(db):
    aws = IntegrationFactory(provider="aws")
    gcp = IntegrationFactory(provider="gcp", organization=aws.organization)
    make = LegacyCostRowFactory
    return {
        "ec2_prod": make(integration=aws, service_name="AmazonEC2", tags={"env": "prod"}),
        "ec2_dev": make(
            integration=aws, service_name="AmazonEC2", tags={"env": "dev", "team": "a"}
        ),
        "s3_untagged": make(integration=aws, service_name="AmazonS3", tags={}),
        "rds_other": make(integration=aws, service_name="ec2%like", tags={"team": "b"}),
        "gcp": make(integration=gcp, service_name="Compute Engine", tags={"env": "Prod"}),
    }


def selected(rows, node) -> set[str]:
    ids = set(CostRow.objects.filter(to_q(node)).values_list("pk", flat=True))
    return {name for name, row in rows.items() if row.pk in ids}


def test_q_equality_is_case_sensitive(rows):
    tree = parse_vql(
        "costs.provider IN ('aws', 'gcp') AND tags.name = 'env' AND tags.value = 'prod'"
    )
    assert selected(rows, tree) == {"ec2_prod"}


def test_q_like_is_case_sensitive_and_honours_escapes(rows):
    assert selected(rows, parse_vql("costs.provider = 'aws' AND costs.category LIKE 'Comp%'")) == {
        "ec2_prod",
        "ec2_dev",
        "s3_untagged",
        "rds_other",
    }
    contains = parse_structured([{"field": "service", "op": "contains", "value": "2%l"}], "aws")
    assert selected(rows, contains) == {"rds_other"}
    lower = parse_structured([{"field": "service", "op": "contains", "value": "ec2"}], "aws")
    assert selected(rows, lower) == {"rds_other"}


def test_q_tag_value_not_equal_needs_the_tag(rows):
    tree = parse_vql("costs.provider = 'aws' AND tags.name = 'env' AND tags.value != 'prod'")
    assert selected(rows, tree) == {"ec2_dev"}


def test_q_not_of_a_tag_value_includes_rows_without_the_tag(rows):
    tree = parse_vql("costs.provider = 'aws' AND NOT (tags.name = 'env' AND tags.value = 'prod')")
    assert selected(rows, tree) == {"ec2_dev", "s3_untagged", "rds_other"}


def test_q_untagged_and_tag_absence(rows):
    assert selected(rows, parse_vql("costs.provider = 'aws' AND tags.name = NULL")) == {
        "s3_untagged"
    }
    assert selected(rows, parse_vql("costs.provider = 'aws' AND tags.name != 'env'")) == {
        "s3_untagged",
        "rds_other",
    }
    assert selected(rows, parse_vql("costs.provider = 'gcp' AND tags.name != NULL")) == {"gcp"}


def test_q_tuple_form_selects_any_pair(rows):
    tree = parse_vql(
        "costs.provider = 'aws' AND (tags.name, tags.value) IN (('env', 'prod'), ('team', 'b'))"
    )
    assert selected(rows, tree) == {"ec2_prod", "rds_other"}


def test_q_match_all(rows):
    assert selected(rows, MATCH_ALL) == set(rows)


def test_q_works_inside_case_when_for_allocation(rows):
    """The allocation query's shape: the first matching filter wins, one grouped query."""
    first = parse_vql("costs.provider = 'aws' AND tags.name = 'env' AND tags.value = 'prod'")
    second = parse_vql("costs.provider = 'aws' AND NOT (tags.name = 'team' AND tags.value = 'b')")
    third = MATCH_ALL
    rows["ec2_prod"].billed_cost = Decimal("1.5")
    rows["ec2_prod"].save()
    totals = (
        CostRow.objects.annotate(
            segment=Case(
                When(to_q(first), then=Value(1)),
                When(to_q(second), then=Value(2)),
                When(to_q(third), then=Value(3)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .values("segment")
        .annotate(total=Sum("billed_cost"))
        .order_by("segment")
    )
    assert [(t["segment"], t["total"]) for t in totals] == [
        (1, Decimal("1.5")),
        (2, Decimal("20")),  # ec2_dev and s3_untagged
        (3, Decimal("20")),  # rds_other and gcp
    ]


def test_q_matches_integration_ids(rows):
    integration = rows["gcp"].integration
    tree = parse_structured(
        [{"field": "integration_id", "op": "=", "value": str(integration.pk).upper()}], "gcp"
    )
    assert selected(rows, tree) == {"gcp"}


def test_q_on_aws_only_columns(rows):
    row = rows["ec2_prod"]
    row.operating_system, row.tenancy, row.instance_family = "Linux", "Shared", "m5"
    row.charge_period_start = datetime.date(2026, 1, 1)
    row.save()
    tree = parse_structured(
        [
            {"field": "operating_system", "op": "=", "value": "Linux"},
            {"field": "tenancy", "op": "in", "value": ["Shared", "Dedicated"]},
            {"field": "instance_family", "op": "contains", "value": "5"},
        ],
        "aws",
    )
    assert selected(rows, tree) == {"ec2_prod"}
