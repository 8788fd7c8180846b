"""Property-based tests of the filter language (hypothesis).

- Random valid trees round-trip unchanged through VQL, structured JSON and the stored JSON.
- For random trees and random cost rows, the rows the compiled Q selects from the database
  (alone and inside CASE WHEN) are exactly the rows a plain Python evaluator selects.
- Random strings, token soups, mutated filters and random JSON never raise anything but
  FilterError.

That parse time grows linearly with the input is measured by ``bench/vql_parse.py`` (ratios of
interleaved CPU-time runs), not here: a wall-clock assertion fails on a busy machine.
"""

import contextlib
import json
import uuid

import pytest
from django.db.models import Case, IntegerField, Value, When
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from costs.models import CostRow
from segments.filter_tree import (
    FIELDS,
    MATCH_ALL,
    PROVIDERS,
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
    render_structured,
    render_vql,
    to_json,
    to_q,
    validate,
)

from ..factories import IntegrationFactory, LegacyCostRowFactory

# --- the independent evaluator -------------------------------------------------------------
# Written from the documented semantics (docs/filter-language.md), not from the compiler.

COLUMN_OF = {
    "provider": "provider",
    "integration_id": "integration_id",
    "account_id": "sub_account_id",
    "service": "service_name",
    "region": "region_id",
    "category": "service_category",
    "subcategory": "service_subcategory",
    "resource_id": "resource_id",
    "charge_type": "charge_category",
    "operating_system": "operating_system",
    "tenancy": "tenancy",
    "instance_family": "instance_family",
}


def like_matches(pattern: str, text: str) -> bool:
    """SQL LIKE with backslash escapes, by dynamic programming over (pattern, text) positions."""
    tokens = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            tokens.append(("literal", pattern[index + 1]))
            index += 2
        elif char == "%":
            tokens.append(("any run", None))
            index += 1
        elif char == "_":
            tokens.append(("any one", None))
            index += 1
        else:
            tokens.append(("literal", char))
            index += 1
    # can[i][j]: the first i tokens match the first j characters
    can = [[False] * (len(text) + 1) for _ in range(len(tokens) + 1)]
    can[0][0] = True
    for i, (kind, char) in enumerate(tokens, start=1):
        for j in range(len(text) + 1):
            if kind == "any run":
                can[i][j] = can[i - 1][j] or (j > 0 and can[i][j - 1])
            elif j > 0 and (kind == "any one" or text[j - 1] == char):
                can[i][j] = can[i - 1][j - 1]
    return can[len(tokens)][len(text)]


def value_test(op: str, values: tuple, value: str) -> bool:
    if op == "in":
        return value in values
    if op == "not_in":
        return value not in values
    if op == "like":
        return like_matches(values[0], value)
    if op == "not_like":
        return not like_matches(values[0], value)
    raise AssertionError(op)


def evaluate(node, row: dict) -> bool:
    if isinstance(node, Group):
        results = [evaluate(child, row) for child in node.children]
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, Not):
        return not evaluate(node.child, row)
    if isinstance(node, Condition):
        return value_test(node.op, node.values, str(row[COLUMN_OF[node.field]]))
    tags = row["tags"]
    if node.key is None:
        return bool(tags) if node.op == "exists" else not tags
    if node.op == "exists":
        return node.key in tags
    if node.op == "not_exists":
        return node.key not in tags
    return node.key in tags and value_test(node.op, node.values, tags[node.key])


def test_plain_like_matcher():
    assert like_matches("a%c", "abbc")
    assert like_matches("a_c", "abc")
    assert not like_matches("a_c", "ac")
    assert like_matches("100\\%", "100%")
    assert not like_matches("100\\%", "1000")
    assert like_matches("%", "")


# --- strategies ----------------------------------------------------------------------------

ANY_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8
)
ANY_KEY = ANY_TEXT.filter(lambda key: key and '"' not in key)
PATTERN_PIECES = ["%", "_", "a", "A", "b", "\\%", "\\_", "\\\\", "'", "é", "\n", ".", "*", "("]
ANY_PATTERN = st.lists(st.sampled_from(PATTERN_PIECES), max_size=5).map("".join)

INTEGRATION_IDS = {
    "aws": uuid.UUID("00000000-0000-4000-8000-0000000000a1"),
    "azure": uuid.UUID("00000000-0000-4000-8000-0000000000a2"),
    "gcp": uuid.UUID("00000000-0000-4000-8000-0000000000a3"),
}
UNKNOWN_INTEGRATION = "00000000-0000-4000-8000-0000000000ff"
ID_VALUES = st.sampled_from([*map(str, INTEGRATION_IDS.values()), UNKNOWN_INTEGRATION])

# Small pools for the database test, so that filters and rows meet often.
POOL = ["AmazonEC2", "amazonec2", "Amazon EC2", "a%b", "a_b", "it's", "x\\y", "ünï", "", "A\nB"]
POOL_VALUES = st.sampled_from(POOL)
POOL_KEYS = st.sampled_from(["env", "team", "a__b", "2024", "cost center", "ключ", "x'y", "$.k"])
POOL_PATTERNS = st.one_of(
    ANY_PATTERN,
    st.sampled_from(["%EC2%", "Amazon%", "a\\%b", "a_b", "%\\_%", "_____", "%", "%'%", "ü%"]),
)

TOP_PROVIDERS = [("aws",), ("azure",), ("gcp",), ("aws", "gcp"), ("aws", "azure", "gcp")]


def tree_strategy(values, keys, patterns, *, vantage=False):
    """Valid canonical trees, each AND-ed with a provider condition (as VQL requires).

    ``vantage`` leaves out LIKE on the fields where Vantage refuses it."""

    @st.composite
    def trees(draw):
        top = draw(st.sampled_from(TOP_PROVIDERS))
        fields = [
            f
            for f in FIELDS.values()
            if f.name != "provider" and (top == ("aws",) or len(f.providers) == len(PROVIDERS))
        ]

        @st.composite
        def condition(draw):
            spec = draw(st.sampled_from(fields))
            ops = spec.ops if not vantage or spec.vql_like else ("in", "not_in")
            op = draw(st.sampled_from(ops))
            pool = ID_VALUES if spec.name == "integration_id" else values
            if op in ("like", "not_like"):
                return Condition(spec.name, op, (draw(patterns),))
            return Condition(spec.name, op, tuple(draw(st.lists(pool, min_size=1, max_size=3))))

        @st.composite
        def tag(draw):
            key = draw(st.one_of(st.none(), keys)) if draw(st.booleans()) else draw(keys)
            if key is None:
                return TagCondition(None, draw(st.sampled_from(["exists", "not_exists"])))
            op = draw(st.sampled_from(["exists", "not_exists", "in", "not_in", "like", "not_like"]))
            if op in ("exists", "not_exists"):
                return TagCondition(key, op)
            if op in ("like", "not_like"):
                return TagCondition(key, op, (draw(patterns),))
            return TagCondition(key, op, tuple(draw(st.lists(values, min_size=1, max_size=3))))

        @st.composite
        def provider(draw):
            # Inner provider conditions that leave the top providers' rows in play.
            extra = draw(st.sets(st.sampled_from(PROVIDERS)))
            if draw(st.booleans()):
                return Condition("provider", "in", tuple(set(top) | extra))
            others = extra - set(top)
            assume(others)
            return Condition("provider", "not_in", tuple(others))

        leaf = st.one_of(condition(), condition(), tag(), provider())
        body = draw(
            st.recursive(
                leaf,
                lambda children: st.one_of(
                    st.lists(children, min_size=1, max_size=4).map(lambda c: Group("and", c)),
                    st.lists(children, min_size=1, max_size=4).map(lambda c: Group("or", c)),
                    children.map(Not),
                ),
                max_leaves=10,
            )
        )
        node = Group("and", (Condition("provider", "in", top), body))
        try:
            validate(node)
        except FilterError:
            assume(False)
        return normalize(node)

    return trees()


ANY_TREES = tree_strategy(ANY_TEXT, ANY_KEY, ANY_PATTERN)
VANTAGE_TREES = tree_strategy(ANY_TEXT, ANY_KEY, ANY_PATTERN, vantage=True)
POOL_TREES = tree_strategy(POOL_VALUES, POOL_KEYS, POOL_PATTERNS)

ROUND_TRIP = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- round trips ---------------------------------------------------------------------------


@ROUND_TRIP
@given(VANTAGE_TREES)
def test_trees_round_trip_through_vql_with_vantage_rules(tree):
    text = render_vql(tree)
    assert parse_vql(text) == tree
    assert render_vql(parse_vql(text)) == text


@ROUND_TRIP
@given(ANY_TREES)
def test_trees_round_trip_through_vql(tree):
    assert parse_vql(render_vql(tree), vantage_rules=False) == tree


@ROUND_TRIP
@given(ANY_TREES)
def test_trees_round_trip_through_structured_json(tree):
    data = json.loads(json.dumps(render_structured(tree, omit_provider=False)))
    assert parse_structured(data, None) == tree
    providers = providers_of(tree)
    if len(providers) == 1 and Condition("provider", "in", tuple(providers)) in (
        tree.children if isinstance(tree, Group) and tree.op == "and" else (tree,)
    ):
        provider = next(iter(providers))
        assert parse_structured(render_structured(tree), provider) == tree


@ROUND_TRIP
@given(ANY_TREES)
def test_trees_round_trip_through_stored_json(tree):
    stored = json.loads(json.dumps(to_json(tree)))
    assert from_json(stored) == tree
    assert to_json(from_json(stored)) == to_json(tree)


@ROUND_TRIP
@given(ANY_TREES)
def test_canonical_form_is_stable(tree):
    assert normalize(tree) == tree
    assert hash(normalize(tree)) == hash(tree)


# --- the compiled Q against the plain evaluator --------------------------------------------

ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "provider": st.sampled_from(PROVIDERS),
            "sub_account_id": POOL_VALUES,
            "service_name": POOL_VALUES,
            "service_category": POOL_VALUES,
            "service_subcategory": POOL_VALUES,
            "region_id": POOL_VALUES,
            "resource_id": POOL_VALUES,
            "charge_category": st.sampled_from(
                ["Usage", "Purchase", "Tax", "Credit", "Adjustment"]
            ),
            "operating_system": POOL_VALUES,
            "tenancy": POOL_VALUES,
            "instance_family": POOL_VALUES,
            "tags": st.dictionaries(POOL_KEYS, POOL_VALUES, max_size=3),
        }
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
def integrations(organization):
    return {
        provider: IntegrationFactory(id=pk, organization=organization, provider=provider)
        for provider, pk in INTEGRATION_IDS.items()
    }


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=ROWS, trees=st.lists(POOL_TREES, min_size=1, max_size=4))
def test_q_selects_exactly_the_rows_the_plain_evaluator_selects(integrations, rows, trees):
    CostRow.objects.all().delete()
    for row in rows:
        LegacyCostRowFactory(integration=integrations[row["provider"]], **row)
    stored = list(CostRow.objects.values())
    for tree in trees:
        expected = {row["id"] for row in stored if evaluate(tree, row)}
        actual = set(CostRow.objects.filter(to_q(tree)).values_list("id", flat=True))
        assert actual == expected, render_vql(tree)
    # The allocation shape: each row goes to the first filter that matches it.
    whens = [When(to_q(tree), then=Value(index)) for index, tree in enumerate(trees, start=1)]
    assigned = dict(
        CostRow.objects.annotate(
            segment=Case(*whens, default=Value(0), output_field=IntegerField())
        ).values_list("id", "segment")
    )
    for row in stored:
        first = next((index for index, tree in enumerate(trees, start=1) if evaluate(tree, row)), 0)
        assert assigned[row["id"]] == first


# --- fuzzing -------------------------------------------------------------------------------

TOKENS = [
    "costs.provider",
    "costs.service",
    "costs.region",
    "costs.tenancy",
    "costs.allocation",
    "costs.nope",
    "tags.name",
    "tags.value",
    "=",
    "!=",
    "<>",
    "IN",
    "not",
    "LIKE",
    "AND",
    "or",
    "(",
    ")",
    ",",
    "'aws'",
    "'gcp'",
    "'x'",
    "''",
    "'it''s'",
    "'%a_\\'",
    "NULL",
    "1.0",
    "0.5",
    '"aws"',
    "'",
    ";",
    "\n",
]
FUZZ = settings(max_examples=400, deadline=None)


def parse_or_filter_error(text: str):
    try:
        tree = parse_vql(text)
    except FilterError as error:
        assert error.code
        assert str(error)
        if error.position is not None:
            assert 0 <= error.position["offset"] <= len(text)
        return None
    assert parse_vql(render_vql(tree)) == tree
    return tree


@FUZZ
@given(st.text(max_size=200))
def test_random_text_raises_only_filter_errors(text):
    parse_or_filter_error(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
def test_token_soup_raises_only_filter_errors(text):
    parse_or_filter_error(text)


@FUZZ
@given(VANTAGE_TREES, st.data())
def test_mutated_filters_raise_only_filter_errors(tree, data):
    text = render_vql(tree)
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(text)))
        insert = data.draw(st.sampled_from(["", "(", ")", "'", " AND ", " OR ", "NOT ", "x"]))
        cut = data.draw(st.integers(0, 3))
        text = text[:position] + insert + text[position + cut :]
    parse_or_filter_error(text)


JSON_KEYS = st.sampled_from(
    [
        "field",
        "op",
        "value",
        "any",
        "all",
        "not",
        "type",
        "children",
        "child",
        "key",
        "values",
        "version",
    ]
)
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "service",
            "tag:env",
            "tags",
            "provider",
            "=",
            "in",
            "contains",
            "exists",
            "and",
            "or",
            "not",
            "condition",
            "tag",
            "aws",
            "x",
        ]
    ),
    st.text(max_size=5),
)
RANDOM_JSON = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(JSON_KEYS, children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(RANDOM_JSON, st.sampled_from([None, *PROVIDERS]))
def test_random_json_raises_only_filter_errors(data, provider):
    try:
        tree = parse_structured(data, provider)
    except FilterError:
        tree = None
    if tree is not None:
        assert parse_structured(render_structured(tree, omit_provider=False), None) == tree
    with contextlib.suppress(FilterError):
        from_json(data)


# --- long filters ---------------------------------------------------------------------------


def filter_of_length(length: int) -> str:
    """A valid filter of about ``length`` characters mixing every construct."""
    parts = ["costs.provider = 'aws'"]
    index = 0
    pieces = [
        "costs.service IN ('AmazonEC2', 'AmazonS3', 'it''s')",
        "(costs.region = 'us-east-1' OR costs.category LIKE '%Compute%')",
        "tags.name = 'team' AND tags.value NOT IN ('a', 'b')",
        "NOT (costs.resource_id = 'i-0abc' OR tags.name = NULL)",
    ]
    while len(" AND ".join(parts)) < length - 60:
        parts.append(pieces[index % len(pieces)].replace("'a'", f"'a{index}'"))
        index += 1
    return " AND ".join(parts)


def test_a_long_filter_of_every_construct_round_trips_through_vql():
    tree = parse_vql(filter_of_length(2_000))
    assert parse_vql(render_vql(tree)) == tree
    assert tree != MATCH_ALL
