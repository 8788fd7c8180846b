"""VQL: every operator and field, tag forms, NULL, escapes, case, Vantage's rules, errors."""

from decimal import Decimal

import pytest

from segments.filter_tree import (
    Condition,
    FilterError,
    Group,
    Not,
    TagCondition,
    normalize,
    parse_vql,
    render_vql,
)

AWS = Condition("provider", "in", ("aws",))
GCP = Condition("provider", "in", ("gcp",))


def aws_and(*nodes):
    return normalize(Group("and", (AWS, *nodes)))


def parse_aws(condition: str):
    """Parse ``costs.provider = 'aws' AND <condition>``."""
    return parse_vql(f"costs.provider = 'aws' AND {condition}")


def error_of(text: str, **kwargs) -> FilterError:
    with pytest.raises(FilterError) as caught:
        parse_vql(text, **kwargs)
    return caught.value


# --- Vantage's documented examples ---------------------------------------------------------


def test_vantage_example_with_or_of_provider_groups_parses():
    tree = parse_vql(
        "(costs.provider = 'aws' AND costs.service = 'Amazon Relational Database Service') "
        "OR (costs.provider = 'gcp')"
    )
    assert tree == Group(
        "or",
        (
            GCP,
            Group(
                "and",
                (AWS, Condition("service", "in", ("Amazon Relational Database Service",))),
            ),
        ),
    )


def test_vantage_example_with_tag_like_parses():
    tree = parse_vql(
        "costs.provider = 'gcp' AND tags.name = 'environment' AND tags.value LIKE '%prod%'"
    )
    assert tree == Group("and", (GCP, TagCondition("environment", "like", ("%prod%",))))


@pytest.mark.parametrize(
    "text",
    [
        "costs.provider = 'aws' AND costs.service = 'EC2'",
        "costs.provider = 'azure' OR costs.provider = 'aws'",
        "costs.provider = 'azure' AND costs.account_id IN ('account-1', 'account-2')",
        "costs.provider = 'aws' AND costs.region NOT IN ('us-east-1', 'us-east-2')",
        "costs.provider = 'aws' AND costs.region != 'us-east-1'",
        "costs.provider = 'gcp' AND tags.name = 'environment' AND tags.value NOT LIKE '%prod%'",
        "costs.provider = 'gcp' AND costs.allocation = 0.5",
        "costs.provider = 'aws' AND costs.account_id = '123456758' AND costs.service IN "
        "('Amazon Relational Database', 'Amazon Elastic Compute Cloud - Compute')",
        "(costs.provider = 'aws' AND costs.provider_account_id = 'abcd1234') OR "
        "(costs.provider = 'azure' AND costs.provider_account_id = 'abcd1234')",
        "costs.provider = 'aws' AND costs.service = 'Amazon Relational Database Service' AND "
        "costs.resource_id = 'arn:aws:rds:us-east-1:123456789:db:primary-01'",
        "costs.provider = 'aws' AND costs.service = 'AWS Certificate Manager' AND "
        "costs.subcategory = 'USE1-PaidPrivateCA'",
        "costs.provider = 'aws' AND costs.charge_type = 'Usage'",
        "costs.provider = 'aws' AND tags.name = 'team' AND tags.value IN ('mobile', 'data')",
        "costs.provider = 'aws' AND (tags.name, tags.value) IN "
        "(('environment', 'staging'), ('team', 'engineering'))",
        "costs.provider = 'azure' AND tags.name = 'environment' AND tags.value LIKE '%prod%'",
        "(costs.provider = 'aws' AND tags.name = NULL) OR (costs.provider = 'azure' AND "
        "tags.name = NULL) OR (costs.provider = 'gcp' AND tags.name = NULL)",
        "(costs.provider = 'aws' AND tags.name = 'environment' AND tags.value = 'dev') OR "
        "(costs.provider = 'aws' AND tags.name = 'environment' AND tags.value = 'prod')",
        "costs.provider='aws'",
    ],
)
def test_vantage_documentation_examples_parse_and_round_trip(text):
    tree = parse_vql(text)
    assert parse_vql(render_vql(tree)) == tree


# --- fields and operators ------------------------------------------------------------------

FIELD_CASES = [
    ("costs.provider", "provider", "aws"),
    ("costs.integration_id", "integration_id", "6f1c1c1e-0000-4000-8000-000000000001"),
    ("costs.account_id", "account_id", "123456789012"),
    ("costs.provider_account_id", "account_id", "123456789012"),
    ("costs.service", "service", "AmazonEC2"),
    ("costs.region", "region", "us-east-1"),
    ("costs.category", "category", "Compute"),
    ("costs.subcategory", "subcategory", "BoxUsage"),
    ("costs.resource_id", "resource_id", "i-0abc"),
    ("costs.charge_type", "charge_type", "Usage"),
    ("costs.operating_system", "operating_system", "Linux"),
    ("costs.tenancy", "tenancy", "Shared"),
    ("costs.instance_family", "instance_family", "m5"),
]
NO_LIKE = {"costs.provider", "costs.integration_id"}
VANTAGE_NO_LIKE = {
    "costs.account_id",
    "costs.provider_account_id",
    "costs.region",
    "costs.service",
}


def _expect(field_name, op, values):
    node = Condition(field_name, op, values)
    if field_name == "provider":
        return node
    return aws_and(node)


@pytest.mark.parametrize(("vql", "name", "value"), FIELD_CASES)
@pytest.mark.parametrize(
    ("operator", "op"),
    [("=", "in"), ("!=", "not_in"), ("<>", "not_in")],
)
def test_equality_operators_on_every_field(vql, name, value, operator, op):
    text = f"costs.provider = 'aws' AND {vql} {operator} '{value}'"
    if name == "provider" and op == "not_in":
        assert error_of(text).code == "provider_mismatch"
        return
    assert parse_vql(text) == _expect(name, op, (value,))


@pytest.mark.parametrize(("vql", "name", "value"), FIELD_CASES)
@pytest.mark.parametrize(("keyword", "op"), [("IN", "in"), ("NOT IN", "not_in")])
def test_in_lists_on_every_field(vql, name, value, keyword, op):
    other = "gcp" if name == "provider" else value + "-2"
    if name == "integration_id":
        other = "6f1c1c1e-0000-4000-8000-000000000002"
    prefix = "" if name == "provider" else "costs.provider = 'aws' AND "
    tree = parse_vql(f"{prefix}{vql} {keyword} ('{value}', '{other}')")
    assert tree == (
        Condition(name, op, (value, other))
        if name == "provider"
        else aws_and(Condition(name, op, (value, other)))
    )


@pytest.mark.parametrize(("vql", "name", "value"), FIELD_CASES)
@pytest.mark.parametrize(("keyword", "op"), [("LIKE", "like"), ("NOT LIKE", "not_like")])
def test_like_on_every_field(vql, name, value, keyword, op):
    text = f"costs.provider = 'aws' AND {vql} {keyword} '{value[:2]}%'"
    if vql in NO_LIKE | VANTAGE_NO_LIKE:
        error = error_of(text)
        assert error.code == "operator_not_allowed"
        assert error.field == vql
        assert error.position["column"] == len("costs.provider = 'aws' AND ") + 1
        assert "LIKE is not allowed on " + vql in error.message
        return
    assert parse_vql(text) == aws_and(Condition(name, op, (f"{value[:2]}%",)))


@pytest.mark.parametrize("vql", sorted(VANTAGE_NO_LIKE))
def test_like_on_account_region_service_is_accepted_without_vantage_rules(vql):
    tree = parse_vql(f"costs.provider = 'aws' AND {vql} LIKE '%x%'", vantage_rules=False)
    assert isinstance(tree, Group)


def test_like_without_wildcards_is_equality():
    assert parse_aws("costs.category LIKE 'Compute'") == parse_aws("costs.category = 'Compute'")
    assert parse_aws("costs.category NOT LIKE 'Compute'") == parse_aws(
        "costs.category != 'Compute'"
    )


def test_like_patterns_are_canonical():
    assert parse_aws("costs.category LIKE 'a%%b'") == parse_aws("costs.category LIKE 'a%b'")
    assert parse_aws("costs.category LIKE '%_x'") == parse_aws("costs.category LIKE '_%x'")
    assert parse_aws(r"costs.category LIKE '\a%'") == parse_aws("costs.category LIKE 'a%'")


def test_like_backslash_escapes_wildcards():
    tree = parse_aws(r"costs.category LIKE '100\%%'")
    assert tree == aws_and(Condition("category", "like", (r"100\%%",)))
    assert parse_aws(r"costs.category LIKE '100\%'") == parse_aws("costs.category = '100%'")


def test_like_pattern_ending_in_escape_is_an_error():
    error = error_of("costs.provider = 'aws' AND costs.category LIKE 'ab\\'")
    assert error.code == "invalid_value"
    assert error.position["offset"] == len("costs.provider = 'aws' AND costs.category LIKE ")


def test_provider_values_are_case_insensitive():
    assert parse_vql("costs.provider = 'AWS'") == AWS


def test_keywords_and_field_names_are_case_insensitive():
    lower = parse_vql(
        "costs.provider = 'aws' and costs.region not in ('a', 'b') and "
        "costs.category not like 'x%' and tags.name = 'k' and tags.value in ('v')"
    )
    upper = parse_vql(
        "COSTS.PROVIDER = 'aws' AND Costs.Region NOT IN ('a', 'b') AND "
        "costs.category Not Like 'x%' AND TAGS.NAME = 'k' AND tags.VALUE In ('v')"
    )
    assert lower == upper


def test_values_stay_case_sensitive():
    assert parse_aws("costs.service = 'EC2'") != parse_aws("costs.service = 'ec2'")


def test_quotes_inside_strings_are_doubled():
    tree = parse_aws("costs.service = 'it''s'")
    assert tree == aws_and(Condition("service", "in", ("it's",)))
    assert render_vql(tree) == "costs.provider = 'aws' AND costs.service = 'it''s'"


def test_backslash_is_literal_outside_like():
    tree = parse_aws(r"costs.service = 'a\b'")
    assert tree == aws_and(Condition("service", "in", ("a\\b",)))


def test_whitespace_and_newlines_are_ignored():
    assert parse_vql("\n  costs.provider\t=\n'aws'  ") == AWS


def test_integration_ids_are_canonical_uuids():
    tree = parse_aws("costs.integration_id = '6F1C1C1E-0000-4000-8000-000000000001'")
    assert tree == aws_and(
        Condition("integration_id", "in", ("6f1c1c1e-0000-4000-8000-000000000001",))
    )


def test_equal_meaning_gives_equal_trees():
    assert parse_aws("costs.region = 'a' AND costs.service = 'b'") == parse_aws(
        "costs.service = 'b' AND costs.region = 'a'"
    )
    assert parse_vql("costs.provider = 'aws' OR costs.provider = 'gcp'") == parse_vql(
        "costs.provider IN ('gcp', 'aws', 'gcp')"
    )
    assert parse_aws("NOT (costs.region = 'a')") == parse_aws("costs.region != 'a'")
    assert parse_aws("(costs.region = 'a' AND (costs.service = 'b'))") == parse_aws(
        "costs.region = 'a' AND costs.service = 'b'"
    )


# --- tags ----------------------------------------------------------------------------------


def test_tag_name_alone_means_the_row_has_the_tag():
    assert parse_aws("tags.name = 'env'") == aws_and(TagCondition("env", "exists"))


def test_tag_value_binds_to_the_tag_name_before_it():
    tree = parse_aws("tags.name = 'env' AND tags.value = 'prod'")
    assert tree == aws_and(TagCondition("env", "in", ("prod",)))


def test_several_tag_pairs_in_one_and_group():
    tree = parse_aws(
        "tags.name = 'env' AND tags.value = 'prod' AND tags.name = 'team' AND tags.value != 'x'"
    )
    assert tree == aws_and(
        TagCondition("env", "in", ("prod",)), TagCondition("team", "not_in", ("x",))
    )


def test_several_tag_values_bind_to_one_name():
    tree = parse_aws("tags.name = 'env' AND tags.value LIKE 'p%' AND tags.value != 'px'")
    assert tree == aws_and(
        TagCondition("env", "like", ("p%",)), TagCondition("env", "not_in", ("px",))
    )


def test_tag_value_with_in_and_not_in():
    assert parse_aws("tags.name = 'team' AND tags.value IN ('mobile', 'data')") == aws_and(
        TagCondition("team", "in", ("data", "mobile"))
    )
    assert parse_aws("tags.name = 'team' AND tags.value NOT IN ('a', 'b')") == aws_and(
        TagCondition("team", "not_in", ("a", "b"))
    )


def test_tag_name_in_list_binds_the_value_to_each_key():
    tree = parse_aws("tags.name IN ('a', 'b') AND tags.value = 'x'")
    assert tree == aws_and(
        Group("or", (TagCondition("a", "in", ("x",)), TagCondition("b", "in", ("x",))))
    )


def test_tag_name_not_equal_means_the_row_lacks_the_tag():
    assert parse_aws("tags.name != 'env'") == aws_and(TagCondition("env", "not_exists"))
    assert parse_aws("tags.name NOT IN ('a', 'b')") == aws_and(
        TagCondition("a", "not_exists"), TagCondition("b", "not_exists")
    )


def test_tag_name_null_means_untagged_and_not_null_means_tagged():
    assert parse_aws("tags.name = NULL") == aws_and(TagCondition(None, "not_exists"))
    assert parse_aws("tags.name = null") == aws_and(TagCondition(None, "not_exists"))
    assert parse_aws("tags.name != NULL") == aws_and(TagCondition(None, "exists"))
    assert parse_aws("tags.name <> NULL") == aws_and(TagCondition(None, "exists"))


def test_tuple_form_is_any_of_the_pairs():
    tree = parse_aws("(tags.name, tags.value) IN (('env', 'staging'), ('team', 'eng'))")
    assert tree == aws_and(
        Group(
            "or",
            (TagCondition("env", "in", ("staging",)), TagCondition("team", "in", ("eng",))),
        )
    )


def test_tuple_form_with_one_key_equals_the_value_list():
    assert parse_aws("(tags.name, tags.value) IN (('env', 'a'), ('env', 'b'))") == parse_aws(
        "tags.name = 'env' AND tags.value IN ('a', 'b')"
    )


def test_tuple_form_not_in_negates_the_pairs():
    tree = parse_aws("(tags.name, tags.value) NOT IN (('env', 'a'))")
    assert tree == aws_and(Not(TagCondition("env", "in", ("a",))))


def test_tuple_form_with_other_fields_is_an_error():
    error = error_of("costs.provider = 'aws' AND (tags.value, tags.name) IN (('a', 'b'))")
    assert error.code == "unknown_field"
    assert "(tags.name, tags.value) IN" in error.message


def test_tag_value_without_name_is_an_error():
    error = error_of("costs.provider = 'aws' AND tags.value = 'prod'")
    assert error.code == "unbound_tag_value"
    assert error.field == "tags.value"
    assert error.position == {"offset": 27, "line": 1, "column": 28}


def test_tag_value_after_another_condition_is_not_bound():
    error = error_of(
        "costs.provider = 'aws' AND tags.name = 'env' AND costs.region = 'x' AND "
        "tags.value = 'prod'"
    )
    assert error.code == "unbound_tag_value"


def test_tag_value_in_an_or_group_is_not_bound():
    error = error_of("costs.provider = 'aws' AND (tags.name = 'env' OR tags.value = 'x')")
    assert error.code == "unbound_tag_value"


def test_tag_value_null_is_an_error():
    error = error_of("costs.provider = 'aws' AND tags.name = 'env' AND tags.value = NULL")
    assert error.code == "invalid_value"
    assert "tags.name = NULL" in error.message


def test_like_on_tag_name_is_an_error():
    error = error_of("costs.provider = 'aws' AND tags.name LIKE 'env%'")
    assert error.code == "operator_not_allowed"
    assert error.field == "tags.name"


def test_tag_keys_with_double_quotes_are_refused():
    error = error_of("costs.provider = 'aws' AND tags.name = 'a\"b'")
    assert error.code == "invalid_value"
    assert "double quotes" in error.message


# --- NOT and allocation (extensions) -------------------------------------------------------


def test_not_of_a_group():
    tree = parse_aws("NOT (costs.region = 'a' AND costs.service = 'b')")
    assert tree == aws_and(
        Not(Group("and", (Condition("service", "in", ("b",)), Condition("region", "in", ("a",)))))
    )
    assert parse_aws("NOT (NOT (costs.region = 'a'))") == parse_aws("costs.region = 'a'")


def test_not_of_a_tag_value_stays_a_not():
    tree = parse_aws("NOT (tags.name = 'env' AND tags.value = 'prod')")
    assert tree == aws_and(Not(TagCondition("env", "in", ("prod",))))


def test_allocation_of_one_is_the_default_and_is_dropped():
    assert parse_vql("costs.provider = 'gcp' AND costs.allocation = 1.0") == GCP
    assert parse_vql("costs.provider = 'gcp' AND costs.allocation = 1") == GCP


def test_partial_allocation_is_a_share_of_its_and_group():
    tree = parse_vql("costs.provider = 'gcp' AND costs.allocation = 0.5")
    assert tree == Group("and", (Condition("provider", "in", ("gcp",)),), Decimal("0.5"))
    assert render_vql(tree) == "costs.provider = 'gcp' AND costs.allocation = 0.5"
    clauses = parse_vql(
        "(costs.provider = 'gcp' AND costs.allocation = 0.25) OR "
        "(costs.provider = 'aws' AND costs.service = 'AmazonS3' AND costs.allocation = 0.75)"
    )
    assert sorted(child.share for child in clauses.children) == [Decimal("0.25"), Decimal("0.75")]
    assert parse_vql(render_vql(clauses)) == clauses


@pytest.mark.parametrize(
    "text, message",
    [
        ("costs.provider = 'gcp' AND costs.allocation = 1.5", "more than 0 and at most 1"),
        ("costs.provider = 'gcp' AND costs.allocation = 0", "more than 0 and at most 1"),
        ("NOT (costs.provider = 'gcp' AND costs.allocation = 0.5)", "cannot be negated"),
        (
            "costs.provider = 'gcp' AND costs.allocation = 0.5 AND costs.allocation = 0.5",
            "given twice",
        ),
    ],
)
def test_a_share_out_of_place_or_range_is_refused_with_a_reason(text, message):
    error = error_of(text)
    assert error.field == "costs.allocation"
    assert message in error.message


def test_allocation_outside_an_and_group_is_refused():
    error = error_of("costs.provider = 'gcp' OR costs.allocation = 1.0")
    assert error.code == "unsupported"
    assert "AND-ed" in error.message


def test_allocation_takes_a_number():
    error = error_of("costs.provider = 'gcp' AND costs.allocation = 'all'")
    assert error.code == "invalid_value"


# --- Vantage's rules -----------------------------------------------------------------------


def test_costs_provider_is_required():
    error = error_of("costs.service = 'CDN'")
    assert error.code == "missing_provider"
    assert error.field == "costs.provider"
    assert "costs.provider" in str(error)


def test_costs_provider_is_optional_without_vantage_rules():
    assert parse_vql("costs.service = 'CDN'", vantage_rules=False) == Condition(
        "service", "in", ("CDN",)
    )


def test_mixing_and_with_or_without_parentheses_is_refused():
    text = "costs.provider = 'aws' AND costs.service = 'x' OR costs.provider = 'gcp'"
    error = error_of(text)
    assert error.code == "mixed_and_or"
    assert error.position == {"offset": 47, "line": 1, "column": 48}
    assert "without parentheses" in error.message


def test_mixing_is_refused_even_without_vantage_rules():
    error = error_of(
        "costs.service = 'x' OR costs.region = 'y' AND costs.tenancy = 'z'", vantage_rules=False
    )
    assert error.code == "mixed_and_or"


def test_parentheses_make_mixing_fine():
    tree = parse_vql("costs.provider = 'aws' AND (costs.service = 'x' OR costs.region = 'y')")
    assert tree == aws_and(
        Group("or", (Condition("service", "in", ("x",)), Condition("region", "in", ("y",))))
    )


# --- errors: what, where, what was expected ------------------------------------------------


def test_unexpected_token_names_position_found_and_expected():
    error = error_of("costs.provider = 'aws' AND AND")
    assert error.code == "parse_error"
    assert error.position == {"offset": 27, "line": 1, "column": 28}
    assert "found 'AND'" in error.message
    assert error.expected == ["a field name", "NOT", "'('"]
    assert str(error).startswith("Line 1, column 28 (offset 27): Syntax error")


def test_unexpected_end_of_input():
    error = error_of("costs.provider = 'aws' AND costs.service IN ('a',")
    assert error.code == "parse_error"
    assert error.position["offset"] == len("costs.provider = 'aws' AND costs.service IN ('a',")
    assert "the end of the filter" in error.message
    assert "a quoted string" in error.expected


def test_unexpected_character_on_a_later_line():
    error = error_of("costs.provider = 'aws'\nAND costs.service = 'x' ;")
    assert error.code == "parse_error"
    assert error.position == {"offset": 47, "line": 2, "column": 25}
    assert "';'" in error.message


def test_double_quoted_strings_get_a_hint():
    error = error_of('costs.provider="aws"')
    assert error.code == "parse_error"
    assert error.position["column"] == 16
    assert "single quotes" in error.message


def test_unclosed_string():
    error = error_of("costs.provider = 'aws")
    assert error.code == "parse_error"
    assert error.position["offset"] == 17
    assert "never closed" in error.message


def test_missing_operator():
    error = error_of("costs.provider 'aws'")
    assert error.expected == ["NOT", "IN", "LIKE", "=, != or <>"]


def test_empty_filter_is_a_parse_error():
    error = error_of("")
    assert error.code == "parse_error"
    assert error.position == {"offset": 0, "line": 1, "column": 1}


def test_unknown_field_names_the_field_and_lists_the_known_ones():
    error = error_of("costs.provider = 'aws' AND costs.marketplace = 'true'")
    assert error.code == "unknown_field"
    assert error.field == "costs.marketplace"
    assert error.position["column"] == 28
    assert "costs.service" in error.message
    assert "costs.service" in error.expected


def test_unknown_provider():
    error = error_of("costs.provider = 'kubernetes'")
    assert error.code == "unknown_provider"
    assert error.position["offset"] == 17
    assert "aws, azure, gcp" in error.message


def test_field_of_another_provider():
    error = error_of("costs.provider = 'azure' AND costs.instance_family = 'm5'")
    assert error.code == "provider_mismatch"
    assert error.field == "costs.instance_family"
    assert error.message.startswith(
        "The field costs.instance_family is not available for provider azure"
    )
    assert error.position["column"] == 30


def test_aws_field_in_a_branch_of_other_providers():
    error = error_of(
        "(costs.provider = 'aws' AND costs.tenancy = 'Shared') OR "
        "(costs.provider = 'gcp' AND costs.tenancy = 'Shared')"
    )
    assert error.code == "provider_mismatch"
    assert "provider gcp" in error.message
    assert error.position["offset"] == len(
        "(costs.provider = 'aws' AND costs.tenancy = 'Shared') OR (costs.provider = 'gcp' AND "
    )


def test_aws_field_in_a_branch_without_provider():
    error = error_of("costs.provider = 'aws' OR costs.operating_system = 'Linux'")
    assert error.code == "provider_mismatch"
    assert "providers azure, gcp" in error.message


def test_contradicting_providers():
    error = error_of("costs.provider = 'aws' AND costs.provider = 'gcp'")
    assert error.code == "provider_mismatch"
    assert "no cost row can match" in error.message


def test_empty_in_list():
    error = error_of("costs.provider = 'aws' AND costs.region IN ()")
    assert error.code == "empty_list"
    assert error.field == "costs.region"
    assert error.position["offset"] == len("costs.provider = 'aws' AND costs.region IN ")


def test_number_where_a_string_is_needed():
    error = error_of("costs.provider = 'aws' AND costs.account_id = 1234")
    assert error.code == "invalid_value"
    assert "'1234'" in error.message


def test_null_on_a_column_is_an_error():
    error = error_of("costs.provider = 'aws' AND costs.region = NULL")
    assert error.code == "invalid_value"
    assert "tags.name = NULL" in error.message


def test_too_long():
    text = "costs.provider = 'aws' AND costs.service IN (" + "'x', " * 3000 + "'y')"
    error = error_of(text)
    assert error.code == "too_long"
    assert "10,000" in error.message


def test_too_deep():
    text = "costs.provider = 'aws' AND " + "NOT (" * 40 + "costs.region = 'x'" + ")" * 40
    error = error_of(text)
    assert error.code == "too_deep"


def test_deep_parentheses_without_nesting_are_fine():
    assert parse_vql("(" * 2000 + "costs.provider = 'aws'" + ")" * 2000) == AWS


def test_nul_characters_are_refused():
    error = error_of("costs.provider = 'aws' AND costs.region = 'a\x00b'")
    assert error.code == "invalid_value"


def test_non_string_input():
    with pytest.raises(FilterError):
        parse_vql(None)


# --- rendering -----------------------------------------------------------------------------


def test_render_is_canonical_vql():
    tree = parse_vql(
        "costs.provider = 'aws' and ((tags.name = 'team' and tags.value = 'x') or "
        "costs.service in ('b', 'a')) and not (costs.category like 'eu-%')"
    )
    assert render_vql(tree) == (
        "costs.provider = 'aws' AND costs.category NOT LIKE 'eu-%' AND "
        "(costs.service IN ('a', 'b') OR (tags.name = 'team' AND tags.value = 'x'))"
    )


def test_render_of_not_and_null():
    tree = parse_aws("NOT (tags.name = 'a' AND tags.value = 'b') AND tags.name = NULL")
    assert render_vql(tree) == (
        "costs.provider = 'aws' AND tags.name = NULL AND NOT (tags.name = 'a' AND tags.value = 'b')"
    )


def test_tag_name_in_list_alone_means_any_of_the_tags():
    assert parse_aws("tags.name IN ('a', 'b')") == aws_and(
        Group("or", (TagCondition("a", "exists"), TagCondition("b", "exists")))
    )


def test_parenthesised_or_inside_and_is_accepted_unlike_vantage():
    """Vantage lists this as failing; the parentheses make it unambiguous, so Costline takes it."""
    tree = parse_vql(
        "costs.provider = 'aws' AND ((tags.name = 'environment' AND tags.value = 'dev') OR "
        "(tags.name = 'environment' AND tags.value = 'prod'))"
    )
    assert tree == aws_and(TagCondition("environment", "in", ("dev", "prod")))
