"""The filter tree compiled to ClickHouse SQL selects, over a Parquet file, exactly the rows
``to_q`` selects over the same rows in the database (random trees and rows, hypothesis)."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db.models import Case, IntegerField, Value, When
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costs.columnar.query import execute, rows_source
from costs.columnar.sql import Params, string_literal
from costs.columnar.store import SCHEMA
from costs.models import CostRow
from segments.filter_tree import Condition, Group, TagCondition, parse_vql, to_q
from segments.filter_tree.sql import to_sql

from ..factories import LegacyCostRowFactory
from ..segments.test_filter_properties import POOL_TREES, ROWS, integrations  # noqa: F401

ROW_ID = "row_id"


def write_rows(path, rows: list[dict]) -> None:
    """The database's rows as a Parquet file of the store's schema, plus their ids."""
    columns = {}
    for field in SCHEMA:
        values = [row[field.name] for row in rows]
        if field.name == "tags":
            values = [list(tags.items()) for tags in values]
        elif field.name in ("organization_id", "integration_id"):
            values = [str(value) for value in values]
        columns[field.name] = pa.array(values, field.type)
    columns[ROW_ID] = pa.array([row["id"] for row in rows], pa.int64())
    pq.write_table(pa.table(columns), path)


def selected(path, tree) -> set[int]:
    params = Params()
    sql = f"SELECT {ROW_ID} FROM file({string_literal(str(path))}) WHERE {to_sql(tree, params)}"
    return set(execute(sql, params.values).column(ROW_ID).to_pylist())


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=ROWS, trees=st.lists(POOL_TREES, min_size=1, max_size=4))
def test_sql_selects_exactly_the_rows_q_selects(integrations, tmp_path, rows, trees):  # noqa: F811
    CostRow.objects.all().delete()
    for row in rows:
        LegacyCostRowFactory(integration=integrations[row["provider"]], **row)
    stored = list(CostRow.objects.values())
    path = tmp_path / "rows.parquet"
    write_rows(path, stored)
    for tree in trees:
        expected = set(CostRow.objects.filter(to_q(tree)).values_list("id", flat=True))
        assert selected(path, tree) == expected, tree
    # The allocation shape: each row goes to the first filter that matches it.
    whens = [When(to_q(tree), then=Value(index)) for index, tree in enumerate(trees, start=1)]
    expected_labels = dict(
        CostRow.objects.annotate(
            segment=Case(*whens, default=Value(0), output_field=IntegerField())
        ).values_list("id", "segment")
    )
    params = Params()
    branches = ", ".join(
        f"{to_sql(tree, params)}, {index}" for index, tree in enumerate(trees, start=1)
    )
    labels = execute(
        f"SELECT {ROW_ID}, multiIf({branches}, 0) AS segment "
        f"FROM file({string_literal(str(path))})",
        params.values,
    ).to_pylist()
    assert {row[ROW_ID]: row["segment"] for row in labels} == expected_labels


ANY_STRING = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(ANY_STRING)
def test_any_text_reaches_the_engine_unchanged_as_a_parameter(text):
    params = Params()
    result = execute(f"SELECT {params.text(text)} AS value", params.values)
    assert result.column("value").to_pylist() == [text]


@settings(max_examples=200, deadline=None)
@given(ANY_STRING)
def test_string_literals_quote_any_text(text):
    result = execute(f"SELECT {string_literal(text)} AS value")
    assert result.column("value").to_pylist() == [text]


def test_values_are_parameters_never_sql_text():
    hostile = "x') OR 1=1 --"
    tree = Group(
        "or",
        (
            Condition("service", "in", (hostile, "b")),
            Condition("region", "like", ("%" + hostile)),
            TagCondition(hostile, "in", (hostile,)),
        ),
    )
    params = Params()
    sql = to_sql(tree, params)
    assert hostile not in sql
    assert "OR 1=1" not in sql
    assert hostile in params.values.values()


@pytest.mark.django_db
def test_integration_ids_match_in_any_spelling_the_database_accepts(organization, tmp_path):
    row = LegacyCostRowFactory(integration__organization=organization)
    path = tmp_path / "rows.parquet"
    write_rows(path, list(CostRow.objects.values()))
    spelled = row.integration_id.hex.upper()
    tree = Condition("integration_id", "in", (spelled,))
    assert (
        selected(path, tree)
        == set(CostRow.objects.filter(to_q(tree)).values_list("id", flat=True))
        == {row.pk}
    )
    assert selected(path, Condition("integration_id", "in", (str(uuid.uuid4()),))) == set()


def test_a_root_with_glob_characters_is_refused(tmp_path):
    with pytest.raises(ValueError, match="must not hold"):
        rows_source([tmp_path / "a{b}" / "part.parquet"])


def test_a_missing_file_is_an_error_not_an_empty_read(tmp_path):
    present = tmp_path / "present.parquet"
    write_rows(present, [])
    with pytest.raises(FileNotFoundError, match="missing"):
        rows_source([present, tmp_path / "gone.parquet"])


def test_an_organization_without_files_reads_an_empty_table():
    result = execute(f"SELECT count() AS rows, sum(billed_cost) AS cost FROM {rows_source([])}")
    assert result.to_pylist()[0]["rows"] == 0


def test_vql_with_every_construct_compiles():
    tree = parse_vql(
        "costs.provider = 'aws' AND (costs.category LIKE 'Comp%' OR tags.name = NULL) "
        "AND NOT (tags.name = 'env' AND tags.value IN ('prod', 'it''s'))"
    )
    params = Params()
    sql = to_sql(tree, params)
    assert "LIKE" in sql and "empty(tags)" in sql and "mapContains" in sql
    execute(f"SELECT count() FROM {rows_source([])} WHERE {sql}", params.values)
