"""Bad input: each case names file, line and column, and leaves the previous data intact."""

import gzip
import json
import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from django.db.models import Sum

from costs import focus, services
from costs.focus import FocusFileError
from costs.models import DimensionValue
from tests.costrows import stored

from .focus_files import generate, rewrite_csv

BAD_ROW = 900  # 0-based data row; with small blocks it sits in a later batch


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Many small batches, so errors after the first batch (and its writes) are covered."""
    monkeypatch.setattr(focus, "CSV_BLOCK_BYTES", 64 * 1024)


@pytest.fixture
def imported(aws_integration, aws_csv):
    """The integration with a good import already in place."""
    services.focus_import(aws_integration, aws_csv)
    return snapshot()


def snapshot():
    return (
        stored().count(),
        stored().aggregate(total=Sum("billed_cost"))["total"],
        sorted(DimensionValue.objects.values_list("field", "key", "value")),
    )


def set_value(column: str, value: str, row: int = BAD_ROW):
    def change(header, rows):
        rows[row][header.index(column)] = value

    return change


def import_fails(integration, path, *, message: str, line=None, column=None):
    with pytest.raises(FocusFileError) as error:
        services.focus_import(integration, path)
    assert message in error.value.message
    assert error.value.message.startswith(path.name)
    if line is not None:
        assert re.search(rf"line {line}\b", error.value.message)
        assert error.value.line == line
    if column is not None:
        assert f"column {column}" in error.value.message
    return error.value


def test_missing_mandatory_column(aws_integration, aws_csv, imported, tmp_path):
    def drop_billed_cost(header, rows):
        position = header.index("BilledCost")
        del header[position]
        for row in rows:
            del row[position]

    path = rewrite_csv(aws_csv, tmp_path / "no_billed_cost.csv", drop_billed_cost)

    error = import_fails(
        aws_integration, path, message="missing mandatory FOCUS column BilledCost", line=None
    )
    assert "line 1 (header)" in error.message
    assert snapshot() == imported


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("BilledCost", "12,50", "not a number: '12,50'"),
        ("EffectiveCost", "", "is empty"),
        ("ListCost", "1e400", "too large"),
        ("PricingQuantity", "lots", "not a number"),
        ("ChargePeriodStart", "yesterday", "not a date/time"),
        ("ChargePeriodStart", "2026-02-30T00:00:00Z", "not a valid date/time"),
        ("BillingPeriodStart", "", "is empty"),
        ("Tags", "{not json", "not valid JSON"),
        ("Tags", "[1, 2]", "not a JSON object"),
        ("SubAccountId", "x" * 200, "longer than 128 characters"),
    ],
)
def test_bad_value_names_line_and_column(
    aws_integration, aws_csv, imported, tmp_path, column, value, reason
):
    path = rewrite_csv(aws_csv, tmp_path / "bad.csv", set_value(column, value))

    import_fails(aws_integration, path, message=reason, line=BAD_ROW + 2, column=column)

    assert snapshot() == imported


def test_unknown_provider(aws_integration, aws_csv, imported, tmp_path):
    path = rewrite_csv(aws_csv, tmp_path / "oracle.csv", set_value("ProviderName", "Oracle Cloud"))

    import_fails(
        aws_integration,
        path,
        message="unknown provider: 'Oracle Cloud'",
        line=BAD_ROW + 2,
        column="ProviderName",
    )
    assert snapshot() == imported


def test_row_of_another_provider(aws_integration, aws_csv, imported, tmp_path):
    path = rewrite_csv(
        aws_csv, tmp_path / "mixed.csv", set_value("ProviderName", "Microsoft Azure")
    )

    import_fails(
        aws_integration,
        path,
        message="a row of provider azure in a aws integration",
        line=BAD_ROW + 2,
        column="ProviderName",
    )
    assert snapshot() == imported


def test_file_of_another_provider(aws_integration, gcp_csv, imported):
    import_fails(aws_integration, gcp_csv, message="a row of provider gcp", line=2)
    assert snapshot() == imported


def test_line_numbers_count_newlines_inside_quoted_values(
    aws_integration, aws_csv, imported, tmp_path
):
    def multiline_then_bad(header, rows):
        rows[10][header.index("ChargeDescription")] = "first line\nsecond line\nthird line"
        rows[BAD_ROW][header.index("BilledCost")] = "n/a"

    path = rewrite_csv(aws_csv, tmp_path / "multiline.csv", multiline_then_bad)

    import_fails(aws_integration, path, message="not a number", line=BAD_ROW + 4)
    assert snapshot() == imported


def test_row_with_missing_fields(aws_integration, aws_csv, imported, tmp_path):
    def truncate_row(header, rows):
        del rows[BAD_ROW][5:]

    path = rewrite_csv(aws_csv, tmp_path / "short.csv", truncate_row)

    import_fails(aws_integration, path, message="expected", line=BAD_ROW + 2)
    assert snapshot() == imported


def test_bad_value_in_gzip_file(aws_integration, aws_csv, imported, tmp_path):
    plain = rewrite_csv(aws_csv, tmp_path / "plain.csv", set_value("BilledCost", "abc"))
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))

    import_fails(aws_integration, path, message="not a number", line=BAD_ROW + 2)
    assert snapshot() == imported


def test_empty_and_non_focus_files(aws_integration, imported, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    import_fails(aws_integration, empty, message="the file is empty")

    not_focus = tmp_path / "report.json"
    not_focus.write_text(json.dumps({"cost": 1}))
    import_fails(aws_integration, not_focus, message="missing mandatory FOCUS columns")

    assert snapshot() == imported


def test_null_cost_in_parquet_names_the_row(aws_integration, focus_dir, imported, tmp_path):
    source = generate(focus_dir, "aws", rows=300, seed=61, suffix=".parquet")
    table = pq.read_table(source)
    billed = table.column("BilledCost").combine_chunks()
    mask = pa.array([index == 123 for index in range(len(billed))])
    billed = pc.if_else(mask, pa.scalar(None, billed.type), billed)
    table = table.set_column(table.schema.get_field_index("BilledCost"), "BilledCost", billed)
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)

    import_fails(aws_integration, path, message="row 124, column BilledCost: is empty")
    assert snapshot() == imported


# --------------------------------------------------------------------------- values the csv module
# and the database refuse: reported like any bad value, never "failed unexpectedly"

CSV_DEFAULT_FIELD_LIMIT = 131_072  # the csv module's own limit, which costs.focus lifts


def test_field_longer_than_the_csv_modules_limit_names_line_and_column(
    aws_integration, aws_csv, imported, tmp_path, monkeypatch
):
    monkeypatch.setattr(focus, "CSV_BLOCK_BYTES", 4 * 1024 * 1024)  # the production size
    huge = "x" * (CSV_DEFAULT_FIELD_LIMIT + 10)
    path = rewrite_csv(aws_csv, tmp_path / "huge.csv", set_value("SubAccountId", huge))

    import_fails(
        aws_integration,
        path,
        message="longer than 128 characters",
        line=BAD_ROW + 2,
        column="SubAccountId",
    )
    assert snapshot() == imported


@pytest.mark.parametrize("column", ["SubAccountId", "ChargeDescription", "x_Unread"])
def test_field_longer_than_a_read_block_names_line_and_column(
    aws_integration, aws_csv, imported, tmp_path, column
):
    """With 64 KiB blocks (see ``small_batches``) a 128 KiB value cannot be held by Arrow."""

    def huge_value(header, rows):
        if column not in header:
            header.append(column)
            for row in rows:
                row.append("")
        rows[BAD_ROW][header.index(column)] = "x" * (CSV_DEFAULT_FIELD_LIMIT + 10)

    path = rewrite_csv(aws_csv, tmp_path / "huge.csv", huge_value)

    import_fails(
        aws_integration,
        path,
        message="131,082 characters, longer than a FOCUS value may be",
        line=BAD_ROW + 2,
        column=column,
    )
    assert snapshot() == imported


@pytest.mark.parametrize("column", ["ServiceName", "RegionId", "ChargeDescription"])
def test_nul_in_a_text_column_names_line_and_column(
    aws_integration, aws_csv, imported, tmp_path, column
):
    path = rewrite_csv(aws_csv, tmp_path / "nul.csv", set_value(column, "Amazon\x00EC2"))

    import_fails(
        aws_integration,
        path,
        message="contains a NUL character",
        line=BAD_ROW + 2,
        column=column,
    )
    assert snapshot() == imported


def test_nul_escaped_in_tags_names_line_and_column(aws_integration, aws_csv, imported, tmp_path):
    path = rewrite_csv(
        aws_csv, tmp_path / "nul_tag.csv", set_value("Tags", '{"team": "a\\u0000b"}')
    )

    import_fails(
        aws_integration, path, message="contains a NUL character", line=BAD_ROW + 2, column="Tags"
    )
    assert snapshot() == imported


@pytest.mark.parametrize("duplicate", ["ServiceName", "servicename ", "Tags"])
def test_duplicate_column_headers_are_refused(
    aws_integration, aws_csv, imported, tmp_path, duplicate
):
    def duplicate_column(header, rows):
        position = header.index(duplicate.strip()) if duplicate.strip() in header else 0
        header.append(duplicate)
        for row in rows:
            row.append(row[position])

    path = rewrite_csv(aws_csv, tmp_path / "dup.csv", duplicate_column)

    error = import_fails(aws_integration, path, message="appears more than once", line=1)
    assert "line 1 (header)" in error.message
    assert duplicate.strip() in error.message
    assert snapshot() == imported
