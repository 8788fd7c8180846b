"""The Parquet store: partitions per organization / integration / billing period, the same rows
as the database import, replaced atomically through the manifest."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import duckdb
import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from costs import focus
from costs.columnar import rollup, store
from costs.columnar.models import ColumnarPartition
from costs.columnar.rollup import ROLLUP_KEYS
from costs.columnar.store import active_files
from costs.focus import COPY_COLUMNS, FocusFileError, open_integration_files
from costs.services import focus_import, integration_create

from ..costs.focus_files import MONTHS, generate, rewrite_csv
from ..factories import OrganizationFactory
from ..segments.conftest import committed

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def aws_file(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("focus"), "aws", rows=1500, seed=3)


@pytest.fixture
def aws(organization):
    return integration_create(organization, "aws", "AWS payer")


def parquet_rows(files) -> list[dict]:
    return [row for path in files for row in pq.read_table(path).to_pylist()]


MONEY = ("billed_cost", "effective_cost", "list_cost", "contracted_cost")
QUANTITIES = ("pricing_quantity", "consumed_quantity")


def comparable(row: dict) -> tuple:
    """A row's columns but amounts as text, ids without dashes and tags as sorted pairs
    (amounts are compared with the file: SQLite keeps decimals as floats)."""
    values = []
    for name in COPY_COLUMNS:
        value = row[name]
        if name in MONEY or name in QUANTITIES:
            continue
        if name == "tags":
            pairs = value.items() if isinstance(value, dict) else value
            value = tuple(sorted((key, str(item)) for key, item in pairs))
        elif name in ("organization_id", "integration_id"):
            value = str(value).replace("-", "")
        values.append(str(value))
    return tuple(values)


def test_partitions_hold_exactly_the_rows_the_reader_reads(aws, aws_file, columnar_root):
    with committed():
        result = focus_import(aws, aws_file)
    (reader,) = open_integration_files(aws, aws_file)
    read = [row for batch in reader.batches() for row in batch.table.to_pylist()]
    for row in read:
        row["tags"] = json.loads(row["tags"])
    rows = parquet_rows(active_files(aws.organization_id))
    assert result.rows_written == len(read) == len(rows) == 1500
    assert Counter(comparable(row) for row in rows) == Counter(comparable(row) for row in read)


@pytest.mark.parametrize("fold_from_rows", [0, 10**9])
def test_the_rollup_sums_the_raw_rows_per_day_and_dimension(
    aws, aws_file, columnar_root, monkeypatch, fold_from_rows
):
    """Checked with DuckDB over the raw Parquet files, not with the engine that wrote it; small
    periods keep their rows as they are (``FOLD_FROM_ROWS``), larger ones fold them."""
    monkeypatch.setattr(rollup, "FOLD_FROM_ROWS", fold_from_rows)
    with committed():
        focus_import(aws, aws_file)
    keys = [key for key in ROLLUP_KEYS if key != "tags"]
    for partition in ColumnarPartition.objects.filter(integration=aws, active=True):
        (raw,), (rollup_file,) = partition.files, partition.rollup_files
        query = (
            "SELECT {keys}, CAST(map_entries(tags) AS VARCHAR) AS tag_text, {sums}, {count} "
            "FROM read_parquet('{path}') GROUP BY ALL ORDER BY ALL"
        )
        sums = ", ".join(f"sum({name})" for name in MONEY)
        expected = duckdb.sql(
            query.format(
                keys=", ".join(keys), sums=sums, count="count(*)", path=columnar_root / raw
            )
        ).fetchall()
        got = duckdb.sql(
            query.format(
                keys=", ".join(keys),
                sums=sums,
                count="sum(row_count)",
                path=columnar_root / rollup_file,
            )
        ).fetchall()
        assert len(got) == len(expected) > 10
        assert got == expected
        folded = pq.read_metadata(columnar_root / rollup_file).num_rows < partition.row_count
        assert folded == (fold_from_rows == 0)


def test_amounts_are_the_files_rounded_to_ten_decimals(aws, aws_file, columnar_root):
    with committed():
        focus_import(aws, aws_file)
    files = active_files(aws.organization_id)
    assert str(pq.read_schema(files[0]).field("billed_cost").type) == "decimal128(28, 10)"
    columns = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
    amounts = ", ".join(f"CAST(coalesce(nullif({c}, ''), '0') AS DECIMAL(28, 10))" for c in columns)
    quantities = ", ".join(
        f"CAST(nullif({c}, '') AS DECIMAL(28, 10))" for c in ("PricingQuantity", "ConsumedQuantity")
    )
    expected = duckdb.sql(
        f"SELECT {amounts}, {quantities} FROM read_csv('{aws_file}', all_varchar=true, header=true)"
    ).fetchall()
    stored = [tuple(row[name] for name in (*MONEY, *QUANTITIES)) for row in parquet_rows(files)]
    assert Counter(stored) == Counter(expected)


def test_one_partition_per_billing_period_in_the_hive_layout(aws, aws_file, columnar_root):
    with committed():
        result = focus_import(aws, aws_file)
    # Independent count: DuckDB over the CSV.
    expected = dict(
        duckdb.sql(
            f"SELECT CAST(substr(BillingPeriodStart, 1, 10) AS DATE), count(*) "
            f"FROM read_csv('{aws_file}', all_varchar=true, header=true) GROUP BY 1"
        ).fetchall()
    )
    partitions = ColumnarPartition.objects.filter(integration=aws, active=True)
    assert {p.billing_period_start: p.row_count for p in partitions} == expected
    assert result.billing_periods == sorted(expected) == MONTHS
    for partition in partitions:
        (name,) = partition.files
        assert name.startswith(
            f"organization={aws.organization_id}/integration={aws.pk}/"
            f"billing_period={partition.billing_period_start.isoformat()}/part-"
        )
        assert pq.read_metadata(columnar_root / name).num_rows == partition.row_count


def test_reimport_switches_generations_and_removes_the_old_files_after_a_grace_period(
    aws, aws_file, columnar_root, settings
):
    settings.COSTLINE_COLUMNAR_GRACE_SECONDS = 600
    with committed():
        focus_import(aws, aws_file)
    old_files = active_files(aws.organization_id)
    with committed():
        result = focus_import(aws, aws_file)
    assert result.rows_replaced == 1500
    partitions = ColumnarPartition.objects.filter(integration=aws)
    assert {(p.generation, p.active) for p in partitions} == {(1, False), (2, True)}
    # A query that started before the switch can still read the old files ...
    assert all(path.exists() for path in old_files)
    assert store.store_sweep().partitions_retired == 0
    # ... until the grace period has passed.
    later = timezone.now() + timedelta(seconds=601)
    with committed():
        assert store.store_sweep(now=later).partitions_retired == 2
    assert set(partitions.all().values_list("generation", "active")) == {(2, True)}
    assert not any(path.exists() for path in old_files)
    files = sorted(active_files(aws.organization_id))
    assert sorted(columnar_root.rglob("part-*.parquet")) == files
    assert len(parquet_rows(files)) == 1500


def test_without_a_grace_period_old_files_go_at_the_commit(aws, aws_file, columnar_root, settings):
    settings.COSTLINE_COLUMNAR_GRACE_SECONDS = 0
    with committed():
        focus_import(aws, aws_file)
    old_files = active_files(aws.organization_id)
    with committed():
        focus_import(aws, aws_file)
    assert not any(path.exists() for path in old_files)
    assert set(ColumnarPartition.objects.values_list("generation", "active")) == {(2, True)}


def test_the_sweep_removes_day_old_files_no_manifest_names(aws, aws_file, columnar_root):
    with committed():
        focus_import(aws, aws_file)
    kept = sorted(columnar_root.rglob("*.parquet"))
    orphan = columnar_root / "organization=x/integration=y/billing_period=2026-08-01/part-z.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a dead import")
    assert store.store_sweep().orphans_removed == 0  # it may still be being written
    later = timezone.now() + timedelta(days=1, seconds=1)
    assert store.store_sweep(now=later).orphans_removed == 1
    assert not orphan.exists()
    assert sorted(columnar_root.rglob("*.parquet")) == kept


def test_deleting_an_integration_removes_its_files(aws, aws_file, columnar_root):
    with committed():
        focus_import(aws, aws_file)
    files = active_files(aws.organization_id)
    assert files
    with committed():
        aws.delete()
    assert not ColumnarPartition.objects.exists()
    assert not any(path.exists() for path in files)
    assert not list(columnar_root.rglob("*.parquet"))


def test_a_failed_import_leaves_the_store_unchanged(
    aws, aws_file, columnar_root, tmp_path, monkeypatch
):
    with committed():
        focus_import(aws, aws_file)
    before = sorted(columnar_root.rglob("part-*.parquet"))

    def break_last_row(header, rows):
        rows[-1][header.index("BilledCost")] = "lots"

    broken = rewrite_csv(aws_file, tmp_path / "broken.csv", break_last_row)
    # Small blocks and row groups: files are written before the bad row is read.
    monkeypatch.setattr(focus, "CSV_BLOCK_BYTES", 64 * 1024)
    monkeypatch.setattr(store, "ROW_GROUP_ROWS", 100)
    with pytest.raises(FocusFileError, match="BilledCost"), committed():
        focus_import(aws, broken)
    assert sorted(columnar_root.rglob("part-*.parquet")) == before
    assert set(ColumnarPartition.objects.values_list("generation", "active")) == {(1, True)}


def test_large_periods_stream_into_bounded_row_groups_and_files(
    aws, aws_file, columnar_root, monkeypatch
):
    monkeypatch.setattr(store, "ROW_GROUP_ROWS", 128)
    monkeypatch.setattr(store, "FILE_ROWS", 500)
    with committed():
        focus_import(aws, aws_file)
    for partition in ColumnarPartition.objects.filter(integration=aws):
        assert len(partition.files) >= 2
        sizes = [pq.read_metadata(columnar_root / name) for name in partition.files]
        assert sum(meta.num_rows for meta in sizes) == partition.row_count
        for meta in sizes:
            assert meta.num_rows <= 500 + 128
            assert all(
                meta.row_group(index).num_rows <= 128 for index in range(meta.num_row_groups)
            )


def test_active_files_are_the_organizations_own(aws, aws_file, columnar_root):
    other = integration_create(OrganizationFactory(name="Globex"), "aws", "Other payer")
    with committed():
        focus_import(aws, aws_file)
        focus_import(other, aws_file)
    ours = active_files(aws.organization_id)
    theirs = active_files(other.organization_id)
    assert len(ours) == len(theirs) == 2
    assert all(f"organization={aws.organization_id}" in str(path) for path in ours)
    assert not set(ours) & set(theirs)
    assert active_files(aws.organization_id, provider="gcp") == []
    assert active_files(aws.organization_id, periods=[date(2026, 9, 1)]) == ours[1:]
