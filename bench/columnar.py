"""Benchmark: the columnar allocation (chDB over Parquet) vs the PostgreSQL engine vs one
hand-written chDB query computing the same figures.

Usage (drops and re-creates the PostgreSQL database named by ``DATABASE_URL``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/costline_columnar \\
        .venv/bin/python bench/columnar.py [--rows 1000000] [--rounds 3] [--file PATH]

It generates N AWS FOCUS rows with ``costs.sample_data`` (three months; cached as
``var/bench/aws-<rows>.parquet``, or ``--file``), imports them with ``costs.services.focus_import``
into the Parquet store under ``var/bench/columnar``, copies the same rows into PostgreSQL's legacy
row store (``COPY``, then ``ANALYZE``) for the PostgreSQL engine —
and builds two trees from the data's own tag values and services, three levels deep with
overlapping siblings (the first by priority wins):

  * 21 segments: top, 4 children (two values of each of the two most common tag keys: a row
    can match two), 4 grandchildren each (two services each, overlapping windows);
  * 81 segments: top, 8 children (the 8 most common tag values), 9 grandchildren each.

Each round runs, for each tree in turn (interleaved): ``segments.allocation.compute_metrics``
on PostgreSQL, ``segments.engine.allocation_metrics`` (labels each row once, every level
from the labelled set, into unsaved ``SegmentMetric`` rows as the engine returns them), and one
hand-written chDB query over the same files (timed until its rows are Python values) that
computes the same figures another way (a flat ``CASE``, each row fanned out to its segment
lines, grouping sets for days and months, exact distinct counts), and the same hand-written
query in DuckDB's SQL over the same files (the engine the issue weighs against chDB). All must
agree (money to the cent, counts exactly) or the run aborts. It prints per tree the medians
and the ratios.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest import mock
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sample import MONTHS, focus_file  # noqa: E402

CENT = Decimal("0.005")


def setup(database: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ["COSTLINE_COLUMNAR_ROOT"] = str(ROOT / "var" / "bench" / "columnar")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.COSTLINE_COLUMNAR_ROOT = os.environ["COSTLINE_COLUMNAR_ROOT"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def row_store_copy(organization) -> None:
    """The same rows into the legacy row store (``costs.CostRow``), the PostgreSQL engine's
    input: each active Parquet file streamed into ``COPY`` as CSV (tags as JSON text)."""
    import json

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq
    from django.db import connection

    from costs.columnar.store import active_files
    from costs.focus import COPY_COLUMNS

    sql = f"COPY costs_costrow ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    for path in active_files(organization.pk):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000):
            table = pa.Table.from_batches([batch])
            tags = [json.dumps(dict(pairs)) for pairs in table.column("tags").to_pylist()]
            table = table.set_column(
                table.schema.get_field_index("tags"), "tags", pa.array(tags, pa.string())
            )
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(table.select(list(COPY_COLUMNS)), sink, options)
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(memoryview(sink.getvalue()))


def load(path: Path):
    import shutil

    from django.db import connection

    from costs.columnar.store import store_root
    from costs.partitions import ensure_month_partitions
    from costs.services import focus_import, integration_create
    from organizations.services import organization_create

    shutil.rmtree(store_root(), ignore_errors=True)
    organization = organization_create("Columnar bench")
    integration = integration_create(organization, "aws", "AWS payer")
    started = time.perf_counter()
    written = focus_import(integration, path).rows_written
    columnar = time.perf_counter() - started
    started = time.perf_counter()
    ensure_month_partitions(set(MONTHS) | {date(2026, 11, 1)})
    row_store_copy(organization)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE costs_costrow")
    database = time.perf_counter() - started
    print(
        f"imported {written:,} rows into the Parquet store in {columnar:.1f} s; copied to "
        f"PostgreSQL's row store in {database:.1f} s (COPY + ANALYZE)"
    )
    return organization


def most_common(organization, expression: str, count: int, where: str = "1") -> list[str]:
    from costs.columnar.query import ROWS, select

    sql = (
        f"SELECT {expression} AS value FROM {ROWS} WHERE {where} "
        f"GROUP BY value ORDER BY count() DESC, value LIMIT {count}"
    )
    return select(organization.pk, sql).column("value").to_pylist()


class Node:
    """A bench segment and its hand-written condition (its own, not its ancestors'), in
    ClickHouse's SQL and in DuckDB's."""

    def __init__(self, segment, sql: str, duck: str | None = None):
        self.segment = segment
        self.sql = sql
        self.duck = duck or sql
        self.children: list = []

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def quoted(value: str) -> str:
    from costs.columnar.sql import string_literal

    return string_literal(value)


def duck_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def build_tree(organization, name, tags, services, grandchildren) -> Node:
    from segments.filter_tree import parse_vql
    from segments.services import segment_create

    aws = "costs.provider = 'aws'"
    top = Node(
        segment_create(organization, name=name, filter_tree=parse_vql(aws), track_unallocated=True),
        "provider = 'aws'",
    )
    for index, (key, value) in enumerate(tags):
        vql = f"{aws} AND tags.name = '{key}' AND tags.value = '{value}'"
        child = Node(
            segment_create(
                organization,
                name=f"{name} {key}={value}",
                parent=top.segment,
                priority=index,
                filter_tree=parse_vql(vql),
                track_unallocated=True,
            ),
            f"mapContains(tags, {quoted(key)}) AND tags[{quoted(key)}] = {quoted(value)}",
            f"map_contains(tags, {duck_text(key)}) AND tags[{duck_text(key)}] = {duck_text(value)}",
        )
        top.children.append(child)
        for g_index in range(grandchildren):
            pair = [services[(index + g_index + k) % len(services)] for k in (0, 1)]
            vql_in = ", ".join(f"'{s}'" for s in pair)
            child.children.append(
                Node(
                    segment_create(
                        organization,
                        name=f"{name} {key}={value}/{'+'.join(pair)}",
                        parent=child.segment,
                        priority=g_index,
                        filter_tree=parse_vql(f"{aws} AND costs.service IN ({vql_in})"),
                    ),
                    f"service_name IN ({', '.join(quoted(s) for s in pair)})",
                )
            )
    return top


# --- the hand-written chDB query -------------------------------------------------------------

USAGE = "charge_category = 'Usage' AND charge_class != 'Correction'"
HAND_FIGURES = {
    "billed_cost": "sum(billed_cost)",
    "effective_cost": "sum(effective_cost)",
    "list_cost": "sum(list_cost)",
    "on_demand_cost": f"sumIf(list_cost, {USAGE})",
    "committed_cost": "sumIf(effective_cost, commitment_discount_id != '')",
    "committed_list_cost": f"sumIf(list_cost, {USAGE} AND pricing_category = 'Committed')",
    "eligible_list_cost": (
        f"sumIf(list_cost, {USAGE} AND pricing_category IN ('Standard', 'Committed'))"
    ),
    "usage_quantity": f"sumIf(consumed_quantity, {USAGE})",
}
KIND = """multiIf(charge_class = 'Correction', 'refund', charge_category = 'Credit', 'credit',
    charge_category = 'Tax', 'tax', charge_category = 'Purchase', 'purchase',
    charge_category = 'Adjustment', 'discount', 'usage')"""


def hand_sql(root: Node) -> str:
    """Flat CASE (a child's branches before its own, conditions accumulated down the tree);
    each row fans out to the lines it counts in; grouping sets give days and months."""
    nodes = list(root.walk())
    number = {id(node): index for index, node in enumerate(nodes)}
    whens: list[str] = []
    lines: dict[int, list[str]] = {}

    def add(node: Node, conditions: list[str], chain: list[int]) -> None:
        own = number[id(node)]
        chain = [*chain, own]
        lines[own] = [f"({segment}, 0)" for segment in chain]
        if node.children:
            lines[own].append(f"({own}, 1)")
        for child in node.children:
            condition = [*conditions, f"({child.sql})"]
            add(child, condition, chain)
            whens.append(f"{' AND '.join(condition)}, {number[id(child)]}")

    add(root, [], [])
    label = f"multiIf({', '.join(whens)}, 0)"
    lines_array = "[" + ", ".join(f"[{', '.join(lines[i])}]" for i in range(len(nodes))) + "]"
    figures = ", ".join(f"{sql} AS f_{name}" for name, sql in HAND_FIGURES.items())
    return f"""
        SELECT line.1 AS segment, line.2 AS unallocated, grouping(day) AS monthly,
               if(monthly = 1, month, day) AS period, kind, {figures},
               uniqExactIf(resource_id, {USAGE} AND resource_id != '') AS resources
        FROM (
            SELECT {label} AS leaf, charge_period_start AS day,
                   toStartOfMonth(charge_period_start) AS month, {KIND} AS kind, *
            FROM __cost_rows__ WHERE {root.sql}
        )
        ARRAY JOIN {lines_array}[leaf + 1] AS line
        GROUP BY GROUPING SETS ((line, kind, day), (line, kind, month))
        SETTINGS group_by_use_nulls = 0
    """


def hand_written(root: Node) -> tuple[float, dict]:
    from costs.columnar.query import select

    sql = hand_sql(root)
    started = time.perf_counter()
    rows = select(root.segment.organization_id, sql, provider="aws").to_pylist()
    elapsed = time.perf_counter() - started
    return elapsed, _hand_figures(root, rows)


def _hand_figures(root: Node, rows: list[dict]) -> dict:
    nodes = list(root.walk())
    figures = {}
    for row in rows:
        values = {name: row[f"f_{name}"] or Decimal(0) for name in HAND_FIGURES}
        values["resource_count"] = row["resources"]
        if any(values.values()):
            key = (
                str(nodes[row["segment"]].segment.pk),
                "unallocated" if row["unallocated"] else "total",
                "month" if row["monthly"] else "day",
                row["period"],
                row["kind"],
            )
            figures[key] = values
    return figures


DUCK_KIND = """CASE WHEN charge_class = 'Correction' THEN 'refund'
    WHEN charge_category = 'Credit' THEN 'credit' WHEN charge_category = 'Tax' THEN 'tax'
    WHEN charge_category = 'Purchase' THEN 'purchase'
    WHEN charge_category = 'Adjustment' THEN 'discount' ELSE 'usage' END"""


def duck_sql(root: Node, files) -> str:
    """The hand-written query in DuckDB's SQL: flat CASE, rows fanned out with UNNEST, grouping
    sets, COUNT(DISTINCT) (DuckDB has no mergeable distinct-count state)."""
    nodes = list(root.walk())
    number = {id(node): index for index, node in enumerate(nodes)}
    whens: list[str] = []
    lines: dict[int, list[str]] = {}

    def add(node: Node, conditions: list[str], chain: list[int]) -> None:
        own = number[id(node)]
        chain = [*chain, own]
        lines[own] = [f"[{segment}, 0]" for segment in chain]
        if node.children:
            lines[own].append(f"[{own}, 1]")
        for child in node.children:
            condition = [*conditions, f"({child.duck})"]
            add(child, condition, chain)
            whens.append(f"WHEN {' AND '.join(condition)} THEN {number[id(child)]}")

    add(root, [], [])
    lines_list = "[" + ", ".join(f"[{', '.join(lines[i])}]" for i in range(len(nodes))) + "]"
    usage = "charge_category = 'Usage' AND charge_class <> 'Correction'"
    figures = {
        "billed_cost": "sum(billed_cost)",
        "effective_cost": "sum(effective_cost)",
        "list_cost": "sum(list_cost)",
        "on_demand_cost": f"sum(list_cost) FILTER (WHERE {usage})",
        "committed_cost": "sum(effective_cost) FILTER (WHERE commitment_discount_id <> '')",
        "committed_list_cost": (
            f"sum(list_cost) FILTER (WHERE {usage} AND pricing_category = 'Committed')"
        ),
        "eligible_list_cost": (
            f"sum(list_cost) FILTER (WHERE {usage} "
            "AND pricing_category IN ('Standard', 'Committed'))"
        ),
        "usage_quantity": f"sum(consumed_quantity) FILTER (WHERE {usage})",
    }
    sums = ", ".join(f"{sql} AS f_{name}" for name, sql in figures.items())
    paths = ", ".join(duck_text(str(path)) for path in files)
    return f"""
        WITH labelled AS (
            SELECT CASE {" ".join(whens)} ELSE 0 END AS leaf, charge_period_start AS day,
                   CAST(date_trunc('month', charge_period_start) AS DATE) AS month,
                   {DUCK_KIND} AS kind, *
            FROM read_parquet([{paths}]) WHERE {root.duck}
        )
        SELECT line[1] AS segment, line[2] AS unallocated, grouping(day) AS monthly,
               coalesce(day, month) AS period, kind, {sums},
               count(DISTINCT resource_id) FILTER (WHERE {usage} AND resource_id <> '')
                   AS resources
        FROM labelled, unnest(({lines_list})[leaf + 1]) AS fanned(line)
        GROUP BY GROUPING SETS ((line, kind, day), (line, kind, month))
    """


def duck_written(root: Node) -> tuple[float, dict]:
    import duckdb

    from costs.columnar.store import active_files

    sql = duck_sql(root, active_files(root.segment.organization_id, provider="aws"))
    started = time.perf_counter()
    with duckdb.connect() as connection:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    elapsed = time.perf_counter() - started
    return elapsed, _hand_figures(root, rows)


def as_figures(metrics) -> dict:
    names = [*HAND_FIGURES, "resource_count"]
    return {
        (str(m.segment_id), m.line, m.granularity, m.period_start, m.charge_kind): {
            name: getattr(m, name) for name in names
        }
        for m in metrics
    }


def check(what: str, ours: dict, theirs: dict) -> int:
    problems = []
    for key in sorted(set(ours) | set(theirs), key=str):
        if key not in ours or key not in theirs:
            problems.append(f"{key}: only in {'the first' if key in ours else 'the second'}")
            continue
        for name, value in ours[key].items():
            other = theirs[key][name]
            same = value == other if name == "resource_count" else abs(value - other) < CENT
            if not same:
                problems.append(f"{key} {name}: {value} != {other}")
    if problems:
        print(f"\nMISMATCH ({what}, {len(problems)} differences):")
        for problem in problems[:20]:
            print("  " + problem)
        raise SystemExit(1)
    return len(ours)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--file", help="a FOCUS AWS file to use instead of generating one")
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        help="also time the columnar engine over N copies of the store's files (N × the rows) "
        "and print the exponents k of time ∝ rows^k and time ∝ segments^k",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/costline_columnar")
    setup(urlparse(url).path.lstrip("/"))
    path = focus_file(args.rows, args.file)
    from costs.columnar.query import execute
    from segments import services
    from segments.allocation import compute_metrics, load_tree
    from segments.engine import allocation_metrics

    organization = load(path)
    pairs = most_common(
        organization,
        "arrayJoin(arrayMap((k, v) -> concat(k, '=', v), mapKeys(tags), mapValues(tags)))",
        20,
    )
    by_key: dict[str, list[str]] = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        by_key.setdefault(key, []).append(value)
    # Tags that tell rows apart (a key with one value everywhere would take every row).
    keys = [key for key, values in by_key.items() if len(values) > 1]
    small_tags = [(key, value) for key in keys[:2] for value in by_key[key][:2]]
    large_tags = [(key, value) for key in keys for value in by_key[key]][:8]
    service_names = most_common(organization, "service_name", 10)
    # Creating a segment asks for its tree's refresh; the bench times the engines itself.
    with mock.patch.object(services, "tree_refresh_enqueue", lambda *a, **k: None):
        trees = [
            build_tree(organization, "small", small_tags, service_names, grandchildren=4),
            build_tree(organization, "large", large_tags, service_names, grandchildren=9),
        ]
    sizes = [len(list(tree.walk())) for tree in trees]
    execute("SELECT 1")  # chDB starts once per process, before any timing
    engines = ("postgres", "columnar", "hand", "duckdb")
    times = {size: {engine: [] for engine in engines} for size in sizes}
    checked = {}
    for round_ in range(1, args.rounds + 1):
        for size, tree in zip(sizes, trees, strict=True):
            root = load_tree(tree.segment)
            postgres, database = timed(compute_metrics, root)
            columnar, ours = timed(allocation_metrics, load_tree(tree.segment))
            hand, theirs = hand_written(tree)
            duck, duck_figures = duck_written(tree)
            ours = as_figures(ours)
            checked[size] = check("columnar vs PostgreSQL", ours, as_figures(database))
            check("columnar vs hand-written", ours, theirs)
            check("columnar vs DuckDB", ours, duck_figures)
            for engine, seconds in zip(engines, (postgres, columnar, hand, duck), strict=True):
                times[size][engine].append(seconds)
            print(
                f"round {round_}, {size} segments: PostgreSQL {postgres:6.2f} s, "
                f"columnar {columnar:5.2f} s, hand-written {hand:5.2f} s, "
                f"DuckDB hand-written {duck:5.2f} s, {checked[size]:,} metric rows identical"
            )
    print(f"\n{args.rows:,} rows, median of {args.rounds} interleaved rounds")
    print(
        "| segments | metric rows | PostgreSQL engine | columnar engine | hand-written chDB "
        "| hand-written DuckDB | PostgreSQL / columnar | columnar / hand-written chDB "
        "| DuckDB / chDB hand-written |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    medians = {}
    for size in sizes:
        postgres, columnar, hand, duck = (statistics.median(times[size][e]) for e in engines)
        medians[size] = (postgres, columnar, hand, duck)
        print(
            f"| {size} | {checked[size]:,} | {postgres:.2f} s | {columnar:.2f} s | {hand:.2f} s "
            f"| {duck:.2f} s | {postgres / columnar:.1f}× | {columnar / hand:.2f}× "
            f"| {duck / hand:.2f}× |"
        )
    small, large = sizes
    print(
        f"\nsegments ×{large / small:.1f} ({small} → {large}): PostgreSQL time "
        f"×{medians[large][0] / medians[small][0]:.2f}, columnar time "
        f"×{medians[large][1] / medians[small][1]:.2f}, hand-written chDB time "
        f"×{medians[large][2] / medians[small][2]:.2f}, hand-written DuckDB time "
        f"×{medians[large][3] / medians[small][3]:.2f}"
    )
    if args.scale > 1:
        scaling(organization, trees, sizes, args.scale, args.rounds, args.rows)


def scaling(organization, trees, sizes, copies: int, rounds: int, rows: int) -> None:
    """The columnar engine over the store's files and over ``copies`` copies of them (the same
    rows ``copies`` times: sums scale, distinct counts do not), rounds interleaved."""
    import math
    import shutil

    from costs.columnar.store import active_files
    from segments.allocation import load_tree
    from segments.engine import allocation_metrics

    files = active_files(organization.pk)
    copied = []
    for index in range(1, copies):
        for path in files:
            target = path.with_name(f"copy{index}-{path.name}")
            shutil.copyfile(path, target)
            copied.append(target)
    many = [*files, *copied]
    times = {(size, n): [] for size in sizes for n in (1, copies)}
    try:
        for round_ in range(1, rounds + 1):
            for size, tree in zip(sizes, trees, strict=True):
                for n, chosen in ((1, files), (copies, many)):
                    root = load_tree(tree.segment)
                    started = time.perf_counter()
                    allocation_metrics(root, files=chosen)
                    seconds = time.perf_counter() - started
                    times[(size, n)].append(seconds)
                    what = f"{size} segments, {n * rows:,} rows"
                    print(f"scaling round {round_}, {what}: {seconds:.2f} s")
    finally:
        for path in copied:
            path.unlink(missing_ok=True)
    small, large = sizes
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"\ncolumnar engine, median of {rounds} interleaved rounds")
    print("| segments | rows | time | ")
    print("|---|---|---|")
    for (size, n), value in sorted(median.items()):
        print(f"| {size} | {n * rows:,} | {value:.2f} s |")
    for size in sizes:
        k = math.log(median[(size, copies)] / median[(size, 1)]) / math.log(copies)
        print(f"{size} segments: time ∝ rows^k, k = {k:.2f} ({rows:,} → {copies * rows:,} rows)")
    for n in (1, copies):
        k = math.log(median[(large, n)] / median[(small, n)]) / math.log(large / small)
        print(f"{n * rows:,} rows: time ∝ segments^k, k = {k:.2f} ({small} → {large} segments)")


if __name__ == "__main__":
    main()
