"""Structured (Archera) filters: operators, fields, groups, provider injection, errors."""

import pytest

from segments.filter_tree import (
    Condition,
    FilterError,
    Group,
    Not,
    TagCondition,
    normalize,
    parse_structured,
    parse_vql,
    render_structured,
    render_vql,
)

AWS = Condition("provider", "in", ("aws",))


def scoped(provider, *nodes):
    return normalize(Group("and", (Condition("provider", "in", (provider,)), *nodes)))


def error_of(data, provider="aws") -> FilterError:
    with pytest.raises(FilterError) as caught:
        parse_structured(data, provider)
    return caught.value


ARCHERA_FIELDS = [
    ("integration_id", "6f1c1c1e-0000-4000-8000-000000000001"),
    ("account_id", "123456789012"),
    ("service", "AmazonEC2"),
    ("region", "us-east-1"),
    ("operating_system", "Linux"),
    ("tenancy", "Shared"),
    ("instance_family", "m5"),
    ("category", "Compute"),
    ("subcategory", "x"),
    ("resource_id", "i-1"),
    ("charge_type", "Usage"),
]


@pytest.mark.parametrize(("name", "value"), ARCHERA_FIELDS)
@pytest.mark.parametrize(
    ("op", "tree_op"),
    [("=", "in"), ("!=", "not_in"), ("contains", "like"), ("not_contains", "not_like")],
)
def test_single_value_operators_on_every_field(name, value, op, tree_op):
    data = [{"field": name, "op": op, "value": value}]
    if name == "integration_id" and op in ("contains", "not_contains"):
        assert error_of(data).code == "operator_not_allowed"
        return
    expected = value if tree_op in ("in", "not_in") else f"%{value}%"
    assert parse_structured(data, "aws") == scoped("aws", Condition(name, tree_op, (expected,)))


@pytest.mark.parametrize(("name", "value"), ARCHERA_FIELDS)
@pytest.mark.parametrize(("op", "tree_op"), [("in", "in"), ("not_in", "not_in")])
def test_list_operators_on_every_field(name, value, op, tree_op):
    other = value[:-1] + "9"
    tree = parse_structured([{"field": name, "op": op, "value": [value, other]}], "aws")
    assert tree == scoped("aws", Condition(name, tree_op, (value, other)))


def test_conditions_of_the_list_must_all_hold():
    tree = parse_structured(
        [
            {"field": "service", "op": "=", "value": "AmazonEC2"},
            {"field": "region", "op": "in", "value": ["us-east-1", "eu-west-1"]},
        ],
        "aws",
    )
    assert render_vql(tree) == (
        "costs.provider = 'aws' AND costs.service = 'AmazonEC2' AND "
        "costs.region IN ('eu-west-1', 'us-east-1')"
    )


def test_contains_escapes_like_wildcards():
    tree = parse_structured([{"field": "service", "op": "contains", "value": "50%_off\\"}], "aws")
    assert tree == scoped("aws", Condition("service", "like", ("%50\\%\\_off\\\\%",)))
    assert render_structured(tree) == [{"field": "service", "op": "contains", "value": "50%_off\\"}]


def test_like_extension_keeps_wildcards():
    tree = parse_structured([{"field": "service", "op": "like", "value": "Amazon%DB"}], "aws")
    assert render_structured(tree) == [{"field": "service", "op": "like", "value": "Amazon%DB"}]


def test_tag_fields():
    tree = parse_structured(
        [
            {"field": "tag:env", "op": "=", "value": "prod"},
            {"field": "tag:team", "op": "in", "value": ["a", "b"]},
            {"field": "tag:owner", "op": "exists"},
            {"field": "tag:cost center", "op": "not_contains", "value": "x"},
        ],
        "gcp",
    )
    assert tree == scoped(
        "gcp",
        TagCondition("env", "in", ("prod",)),
        TagCondition("team", "in", ("a", "b")),
        TagCondition("owner", "exists"),
        TagCondition("cost center", "not_like", ("%x%",)),
    )
    assert render_vql(tree) == (
        "costs.provider = 'gcp' AND tags.name = 'cost center' AND tags.value NOT LIKE '%x%' AND "
        "tags.name = 'env' AND tags.value = 'prod' AND tags.name = 'owner' AND "
        "tags.name = 'team' AND tags.value IN ('a', 'b')"
    )


def test_untagged_rows():
    tree = parse_structured([{"field": "tags", "op": "not_exists"}], "azure")
    assert tree == scoped("azure", TagCondition(None, "not_exists"))
    assert render_vql(tree) == "costs.provider = 'azure' AND tags.name = NULL"


def test_any_group_is_or():
    data = {
        "any": [
            {"field": "service", "op": "=", "value": "a"},
            {"field": "region", "op": "=", "value": "b"},
        ]
    }
    tree = parse_structured(data, "gcp")
    assert tree == scoped(
        "gcp",
        Group("or", (Condition("service", "in", ("a",)), Condition("region", "in", ("b",)))),
    )
    assert render_structured(tree) == [
        {
            "any": [
                {"field": "service", "op": "=", "value": "a"},
                {"field": "region", "op": "=", "value": "b"},
            ]
        }
    ]


def test_groups_nest_inside_the_list():
    data = [
        {"field": "service", "op": "=", "value": "s"},
        {
            "any": [
                {
                    "all": [
                        {"field": "tag:a", "op": "=", "value": "1"},
                        {"field": "region", "op": "=", "value": "r"},
                    ]
                },
                {"not": {"field": "tag:b", "op": "=", "value": "2"}},
            ]
        },
    ]
    tree = parse_structured(data, "aws")
    assert render_structured(tree) == [
        {"field": "service", "op": "=", "value": "s"},
        {
            "any": [
                {"not": {"field": "tag:b", "op": "=", "value": "2"}},
                {
                    "all": [
                        {"field": "region", "op": "=", "value": "r"},
                        {"field": "tag:a", "op": "=", "value": "1"},
                    ]
                },
            ]
        },
    ]
    assert parse_structured(render_structured(tree), "aws") == tree


def test_or_of_one_field_becomes_an_in_list():
    data = {"any": [{"field": "service", "op": "=", "value": v} for v in ("b", "a")]}
    tree = parse_structured(data, "aws")
    assert render_structured(tree) == [{"field": "service", "op": "in", "value": ["a", "b"]}]


def test_tree_with_or_from_vql_renders_with_groups():
    tree = parse_vql(
        "costs.provider = 'aws' AND (costs.service = 'a' OR "
        "(tags.name = 'env' AND tags.value = 'prod'))"
    )
    assert render_structured(tree) == [
        {
            "any": [
                {"field": "service", "op": "=", "value": "a"},
                {"field": "tag:env", "op": "=", "value": "prod"},
            ]
        }
    ]
    multi = parse_vql("(costs.provider = 'aws' AND costs.service = 'a') OR costs.provider = 'gcp'")
    assert render_structured(multi) == [
        {
            "any": [
                {"field": "provider", "op": "=", "value": "gcp"},
                {
                    "all": [
                        {"field": "provider", "op": "=", "value": "aws"},
                        {"field": "service", "op": "=", "value": "a"},
                    ]
                },
            ]
        }
    ]


def test_provider_is_injected_and_omitted_on_render():
    tree = parse_structured([{"field": "service", "op": "=", "value": "s"}], "aws")
    assert AWS in tree.children
    assert render_structured(tree) == [{"field": "service", "op": "=", "value": "s"}]
    assert render_structured(tree, omit_provider=False) == [
        {"field": "provider", "op": "=", "value": "aws"},
        {"field": "service", "op": "=", "value": "s"},
    ]


def test_empty_filter_with_provider_is_all_of_the_provider():
    tree = parse_structured([], "aws")
    assert tree == AWS
    assert render_structured(tree) == []


def test_empty_filter_without_provider_matches_everything():
    tree = parse_structured([], None)
    assert tree == Group("and", ())
    assert render_structured(tree) == []
    assert render_vql(tree) == ""


def test_without_provider_no_injection():
    tree = parse_structured([{"field": "service", "op": "=", "value": "s"}], None)
    assert tree == Condition("service", "in", ("s",))


def test_provider_field_matching_the_injected_one_is_merged():
    tree = parse_structured([{"field": "provider", "op": "=", "value": "aws"}], "aws")
    assert tree == AWS


def test_integration_id_is_canonicalised():
    tree = parse_structured(
        [{"field": "integration_id", "op": "=", "value": "6F1C1C1E-0000-4000-8000-000000000001"}],
        "aws",
    )
    assert render_structured(tree) == [
        {"field": "integration_id", "op": "=", "value": "6f1c1c1e-0000-4000-8000-000000000001"}
    ]


def test_not_condition_on_a_tag():
    tree = parse_structured([{"not": {"field": "tag:env", "op": "in", "value": ["a", "b"]}}], "aws")
    assert tree == scoped("aws", Not(TagCondition("env", "in", ("a", "b"))))


# --- errors --------------------------------------------------------------------------------


def test_unknown_field():
    error = error_of([{"field": "colour", "op": "=", "value": "red"}])
    assert error.code == "unknown_field"
    assert error.field == "colour"
    assert str(error).startswith("filters[0]: Unknown field 'colour'")
    assert "service" in error.expected


def test_unknown_operator():
    error = error_of([{"field": "service", "op": "~", "value": "x"}])
    assert error.code == "unknown_operator"
    assert "contains" in error.expected


def test_field_of_another_provider():
    error = error_of([{"field": "instance_family", "op": "=", "value": "m5"}], "azure")
    assert error.code == "provider_mismatch"
    assert error.field == "instance_family"
    assert "not available for provider azure" in error.message


def test_aws_fields_need_a_provider():
    error = error_of([{"field": "tenancy", "op": "=", "value": "Shared"}], None)
    assert error.code == "provider_mismatch"
    assert "providers azure, gcp" in error.message


def test_provider_condition_contradicting_the_injected_provider():
    error = error_of([{"field": "provider", "op": "=", "value": "gcp"}], "aws")
    assert error.code == "provider_mismatch"
    assert error.message.startswith("filters[0]: ")


def test_unknown_provider_argument():
    assert error_of([], "oracle").code == "unknown_provider"


def test_unknown_provider_value():
    error = error_of([{"field": "provider", "op": "in", "value": ["aws", "ibm"]}])
    assert error.code == "unknown_provider"


def test_empty_list():
    error = error_of([{"field": "service", "op": "in", "value": []}])
    assert error.code == "empty_list"
    assert error.field == "service"


def test_in_needs_a_list_and_equality_a_string():
    assert error_of([{"field": "service", "op": "in", "value": "x"}]).code == "invalid_value"
    assert error_of([{"field": "service", "op": "=", "value": ["x"]}]).code == "invalid_value"
    assert error_of([{"field": "service", "op": "=", "value": 3}]).code == "invalid_value"
    assert error_of([{"field": "service", "op": "="}]).code == "invalid_value"


def test_contains_not_allowed_on_provider_and_integration():
    error = error_of([{"field": "provider", "op": "contains", "value": "a"}])
    assert error.code == "operator_not_allowed"


def test_exists_only_on_tags():
    error = error_of([{"field": "service", "op": "exists"}])
    assert error.code == "operator_not_allowed"
    error = error_of([{"field": "tags", "op": "=", "value": "x"}])
    assert error.code == "operator_not_allowed"


def test_bad_integration_id():
    error = error_of([{"field": "integration_id", "op": "=", "value": "nope"}])
    assert error.code == "invalid_value"


def test_empty_group_and_bad_shapes():
    assert error_of({"any": []}).code == "empty_group"
    assert error_of([{"any": [], "all": []}]).code == "invalid"
    assert error_of(["service"]).code == "invalid"
    assert error_of("service = x").code == "invalid"
    assert error_of([{"field": "service", "op": "=", "value": "x", "extra": 1}]).code == "invalid"


def test_error_path_points_into_groups():
    data = [
        {
            "any": [
                {"field": "service", "op": "=", "value": "a"},
                {"field": "x", "op": "=", "value": "b"},
            ]
        }
    ]
    error = error_of(data)
    assert str(error).startswith("filters[0].any[1]: Unknown field 'x'")


def test_too_deep():
    data: dict | list = {"field": "service", "op": "=", "value": "a"}
    for _ in range(50):
        data = {"not": data}
    assert error_of([data]).code == "too_deep"


def test_tag_key_rules():
    assert error_of([{"field": "tag:", "op": "exists"}]).code == "invalid_value"
    assert error_of([{"field": 'tag:a"b', "op": "exists"}]).code == "invalid_value"
