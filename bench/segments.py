"""Benchmark: the segment engine vs hand-written SQL that computes the same figures.

Usage (PostgreSQL; drops and re-creates the database named by ``DATABASE_URL``, else by
``--database``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/costline_bench \\
        .venv/bin/python bench/segments.py [--rows 1000000] [--rounds 5] [--seed 7] [--flat-case]

It COPYs N synthetic AWS cost rows (90 days, 10 services, 6 regions, ``env``/``team`` tags,
every charge kind, some rows without a resource) and builds two independent trees over them,
both three levels deep with overlapping filters, so the first match by priority decides:

  * 21 segments: top, 4 children (``env`` prod / staging, ``team`` data / web: a row can match
    two of them), 4 grandchildren each (two services each, overlapping windows);
  * 81 segments: top, 8 children (the 4 envs, then the 4 teams), 9 grandchildren each.

Each round runs, for each tree in turn, the engine then the baseline (interleaved):

  * engine: ``segments.services.segment_tree_refresh`` (daily and monthly metrics of every
    segment, written back as ``SegmentMetric`` rows);
  * baseline: the same figures by hand-written SQL on the Django connection, fetched but not
    written: every ``SegmentMetric`` field (billed, effective, list, on-demand, committed,
    committed list and eligible list costs, usage quantity, exact distinct resources), for every
    segment (``total`` line; ``unallocated`` line of segments with children), per day and per
    month, per charge kind. Distinct resources are counted over each segment's own rows at each
    level — a parent's count is never a sum of its children's. Rows are labelled by a nested
    ``CASE`` (``--flat-case``: the engine's flat one); see ``baseline_sql``.

After every round the baseline's figures are compared with the metrics the engine stored (money
to the cent, counts exactly, same set of rows); any difference aborts the run. Then it prints,
per tree, the median of the rounds for both, their ratio and the median of the rounds' ratios,
and the time ratio 81 / 21 segments. For rows scaling, run it again with another ``--rows``.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVICES = [
    "AmazonEC2",
    "AmazonS3",
    "AmazonRDS",
    "AWSLambda",
    "AmazonEKS",
    "AmazonCloudFront",
    "AmazonDynamoDB",
    "AmazonSQS",
    "AmazonSNS",
    "AmazonRedshift",
]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"]
ENVS = ["prod", "staging", "dev", "test"]
TEAMS = ["data", "web", "payments", "platform"]
# (ChargeCategory, ChargeClass), weighted: mostly usage, every charge kind present.
KINDS = [
    ("Usage", ""),
    ("Usage", ""),
    ("Usage", ""),
    ("Usage", ""),
    ("Usage", ""),
    ("Usage", ""),
    ("Tax", ""),
    ("Credit", ""),
    ("Purchase", ""),
    ("Adjustment", ""),
    ("Usage", "Correction"),
]
PRICING = ["Standard", "Standard", "Committed", "Dynamic"]

# Every SegmentMetric figure, as the baseline computes it per group (hand-written). The run
# aborts at start if the engine stores a figure that is not listed here.
USAGE = "charge_category = 'Usage' AND charge_class <> 'Correction'"
FIGURES = {
    "billed_cost": "SUM(billed_cost)",
    "effective_cost": "SUM(effective_cost)",
    "list_cost": "SUM(list_cost)",
    "on_demand_cost": f"SUM(list_cost) FILTER (WHERE {USAGE})",
    "committed_cost": "SUM(effective_cost) FILTER (WHERE commitment_discount_id <> '')",
    "committed_list_cost": (
        f"SUM(list_cost) FILTER (WHERE {USAGE} AND pricing_category = 'Committed')"
    ),
    "eligible_list_cost": (
        f"SUM(list_cost) FILTER (WHERE {USAGE} AND pricing_category IN ('Standard', 'Committed'))"
    ),
    "usage_quantity": f"SUM(consumed_quantity) FILTER (WHERE {USAGE})",
}
FLAT_CASE = False  # --flat-case
CHARGE_KIND_SQL = """CASE WHEN charge_class = 'Correction' THEN 'refund'
                  WHEN charge_category = 'Credit' THEN 'credit'
                  WHEN charge_category = 'Tax' THEN 'tax'
                  WHEN charge_category = 'Purchase' THEN 'purchase'
                  WHEN charge_category = 'Adjustment' THEN 'discount'
                  ELSE 'usage' END"""


def database_name(default: str) -> str:
    url = os.environ.get("DATABASE_URL")
    return urlparse(url).path.lstrip("/") if url else default


def setup(database: str):
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_rows(organization, integration, rows: int, seed: int) -> None:
    from django.db import connection

    from costs.partitions import ensure_month_partitions

    start = date(2026, 8, 1)
    days = [start + timedelta(days=i) for i in range(90)]
    ensure_month_partitions(days)
    rng = random.Random(seed)
    columns = (
        "organization_id",
        "integration_id",
        "provider",
        "billing_account_id",
        "billing_account_name",
        "sub_account_id",
        "sub_account_name",
        "service_name",
        "service_category",
        "service_subcategory",
        "region_id",
        "resource_id",
        "resource_type",
        "sku_id",
        "charge_category",
        "charge_class",
        "charge_description",
        "pricing_category",
        "commitment_discount_id",
        "commitment_discount_type",
        "billed_cost",
        "effective_cost",
        "list_cost",
        "contracted_cost",
        "pricing_quantity",
        "pricing_unit",
        "consumed_quantity",
        "consumed_unit",
        "billing_currency",
        "charge_period_start",
        "billing_period_start",
        "tags",
        "operating_system",
        "tenancy",
        "instance_family",
    )
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(
            f"COPY costs_costrow ({', '.join(columns)}) FROM STDIN"
        ) as copy,
    ):
        buffer = io.StringIO()
        for index in range(rows):
            day = days[index % len(days)]
            category, charge_class = KINDS[rng.randrange(len(KINDS))]
            credit = category in ("Credit", "Adjustment") or charge_class == "Correction"
            cost = round(-rng.uniform(0, 40) if credit else rng.uniform(0, 40), 4)
            pricing = rng.choice(PRICING)
            committed = pricing == "Committed"
            tags = {}
            if rng.random() < 0.9:
                tags["env"] = rng.choice(ENVS)
            if rng.random() < 0.8:
                tags["team"] = rng.choice(TEAMS)
            # One row in 20 has no resource (FOCUS leaves ResourceId empty for some charges).
            resource = f"res-{rng.randrange(20000)}" if rng.random() < 0.95 else ""
            quantity = "\\N" if rng.random() < 0.05 else round(rng.uniform(0, 24), 3)
            values = (
                organization.pk,
                integration.pk,
                "aws",
                "100000000001",
                "payer",
                f"2000000000{rng.randrange(20):02d}",
                "account",
                rng.choice(SERVICES),
                "Compute",
                "",
                rng.choice(REGIONS),
                resource,
                "",
                "sku",
                category,
                charge_class,
                "",
                pricing,
                "ri-1" if committed else "",
                "",
                cost,
                round(cost * 0.8, 4),
                round(cost * 1.2, 4),
                cost,
                1,
                "Hours",
                quantity,
                "Hours",
                "USD",
                day,
                day.replace(day=1),
                json.dumps(tags),
                "",
                "",
                "",
            )
            buffer.write("\t".join(str(v) for v in values) + "\n")
            if index % 50_000 == 49_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE costs_costrow")


class Node:
    """One segment of a bench tree and its hand-written SQL condition (its own, not its
    ancestors'); ``children`` in allocation order (priority, then creation)."""

    def __init__(self, segment, sql: str):
        self.segment = segment
        self.sql = sql
        self.children: list[Node] = []

    @property
    def label(self) -> str:
        return str(self.segment.pk)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def build_tree(organization, name: str, tags: list[tuple[str, str]], grandchildren: int) -> Node:
    """Top ``aws``; one child per (tag key, value), in that priority order; under each,
    ``grandchildren`` segments of two services each (windows overlap, so the first wins)."""
    from segments.filter_tree import parse_vql
    from segments.services import segment_create

    aws = "costs.provider = 'aws'"
    top = Node(
        segment_create(organization, name=name, filter_tree=parse_vql(aws), track_unallocated=True),
        "provider = 'aws'",
    )
    for index, (key, value) in enumerate(tags):
        child = Node(
            segment_create(
                organization,
                name=f"{name} {key}={value}",
                parent=top.segment,
                priority=index,
                filter_tree=parse_vql(f"{aws} AND tags.name = '{key}' AND tags.value = '{value}'"),
                track_unallocated=True,
            ),
            f"tags ->> {sql_text(key)} = {sql_text(value)}",
        )
        top.children.append(child)
        for g_index in range(grandchildren):
            services = [SERVICES[(index + g_index + k) % len(SERVICES)] for k in (0, 1)]
            vql_in = ", ".join(f"'{s}'" for s in services)
            child.children.append(
                Node(
                    segment_create(
                        organization,
                        name=f"{name} {key}={value}/{'+'.join(services)}",
                        parent=child.segment,
                        priority=g_index,
                        filter_tree=parse_vql(f"{aws} AND costs.service IN ({vql_in})"),
                    ),
                    f"service_name IN ({', '.join(sql_text(s) for s in services)})",
                )
            )
    return top


# --- the baseline: hand-written SQL -----------------------------------------------------------


def numbered(root: Node) -> dict:
    """Small integer labels for the SQL (segment ids are 36-character strings)."""
    return {node.label: number for number, node in enumerate(root.walk())}


def label_case(root: Node) -> str:
    """``CASE`` giving each row the deepest segment that takes it, nested like the tree: a
    segment's children are tried in priority order (first match wins) and only on the rows it
    took; what no child takes stays with the segment. With ``FLAT_CASE``, the engine's form
    instead: one flat ``CASE`` whose branches repeat their ancestors' conditions."""
    number = numbered(root)
    if FLAT_CASE:
        whens: list[str] = []

        def add(node: Node, inherited: list[str]) -> None:
            for child in node.children:
                condition = [*inherited, f"({child.sql})"]
                add(child, condition)
                whens.append(f"WHEN {' AND '.join(condition)} THEN {number[child.label]}")

        add(root, [])
        return f"CASE {' '.join(whens)} ELSE {number[root.label]} END"

    def nested(node: Node) -> str:
        if not node.children:
            return str(number[node.label])
        whens = " ".join(f"WHEN {child.sql} THEN {nested(child)}" for child in node.children)
        return f"CASE {whens} ELSE {number[node.label]} END"

    return nested(root)


def lines_values(root: Node) -> str:
    """``(leaf, segment, unallocated)`` rows: a row labelled ``leaf`` counts in the total of the
    leaf and of each of its ancestors, and in the unallocated line of the leaf when the leaf
    has children (it is then a parent's remainder)."""
    number = numbered(root)
    rows: list[str] = []

    def add(node: Node, ancestors: list[int]) -> None:
        chain = [*ancestors, number[node.label]]
        rows.extend(f"({chain[-1]}, {segment}, false)" for segment in chain)
        if node.children:
            rows.append(f"({chain[-1]}, {chain[-1]}, true)")
        for child in node.children:
            add(child, chain)

    add(root, [])
    return ", ".join(rows)


def levels(root: Node) -> dict:
    """``{label: [segment at level 0, at level 1, ...]}``: the chain from the root down to each
    segment (``chain[k]`` is the segment at most ``k`` levels down that takes its rows)."""
    chains: dict = {}

    def add(node: Node, chain: list[Node]) -> None:
        chains[node.label] = [*chain, node]
        for child in node.children:
            add(child, chains[node.label])

    add(root, [])
    return chains


def depth_of(root: Node) -> int:
    return max(len(chain) for chain in levels(root).values()) - 1


def baseline_sql(root: Node) -> tuple[str, str]:
    """Two statements, each labelling the rows once with the ``CASE``:

    * money: sums per (leaf label, day, kind), then each group counted in the total of its
      leaf and of every ancestor (and in the leaf's unallocated line when it has children),
      with ``GROUPING SETS`` for days and months;
    * distinct resources of usage rows: the leaf label also gives the segment at most k levels
      down (an array lookup per level), and one ``GROUP BY GROUPING SETS`` counts distinct
      resources per (period, level-1 label, …, level-k label) for every k, days and months —
      every segment's own exact count, parents included, from one scan.
    """
    number = numbered(root)
    where = f"organization_id = %s AND ({root.sql})"
    money = ", ".join(f"{sql} AS {name}" for name, sql in FIGURES.items())
    rollup = ", ".join(f"SUM(s.{name})" for name in FIGURES)
    lines = f"lines (leaf, segment, unallocated) AS (VALUES {lines_values(root)})"
    money_sql = f"""
        WITH leaf AS (
            SELECT {label_case(root)} AS leaf, charge_period_start AS day,
                   date_trunc('month', charge_period_start)::date AS month,
                   {CHARGE_KIND_SQL} AS kind, {money}
            FROM costs_costrow WHERE {where}
            GROUP BY 1, 2, 3, 4
        ), {lines}
        SELECT l.segment, l.unallocated, GROUPING(s.day) AS monthly, COALESCE(s.day, s.month),
               s.kind, {rollup}
        FROM leaf s JOIN lines l ON l.leaf = s.leaf
        GROUP BY l.segment, l.unallocated, s.kind, GROUPING SETS ((s.day), (s.month))
    """
    depth = depth_of(root)
    chains = sorted(levels(root).items(), key=lambda item: number[item[0]])
    level_columns = []
    for level in range(1, depth + 1):
        at_level = [str(number[chain[min(level, len(chain) - 1)].label]) for _, chain in chains]
        # PostgreSQL arrays start at 1, labels at 0.
        level_columns.append(f"(ARRAY[{', '.join(at_level)}])[leaf + 1] AS l{level}")
    names = [f"l{level}" for level in range(1, depth + 1)]
    sets = [
        f"({', '.join([period, *names[:level]])})"
        for period in ("day", "month")
        for level in range(depth + 1)
    ]
    resources_sql = f"""
        SELECT GROUPING(day) AS monthly, COALESCE(day, month), {", ".join(names)},
               GROUPING({", ".join(names)}) AS ungrouped, COUNT(DISTINCT resource_id)
        FROM (
            SELECT day, month, resource_id, {", ".join(level_columns)}
            FROM (
                SELECT {label_case(root)} AS leaf, charge_period_start AS day,
                       date_trunc('month', charge_period_start)::date AS month, resource_id
                FROM costs_costrow
                WHERE {where} AND {USAGE} AND resource_id <> ''
            ) labelled
        ) used
        GROUP BY GROUPING SETS ({", ".join(sets)})
    """
    return money_sql, resources_sql


def baseline(root: Node) -> tuple[float, dict]:
    """Run the hand-written SQL; ``(seconds, {(segment, line, granularity, period, kind):
    figures})`` with the rows the engine would store (not all zero)."""
    from django.db import connection

    money_sql, resources_sql = baseline_sql(root)
    organization_id = root.segment.organization_id
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(money_sql, [organization_id])
        money = cursor.fetchall()
        cursor.execute(resources_sql, [organization_id])
        resources = cursor.fetchall()
    elapsed = time.perf_counter() - started
    nodes = list(root.walk())
    level_of = {label: len(chain) - 1 for label, chain in levels(root).items()}
    depth = depth_of(root)
    figures: dict = {}

    def add(label, line, monthly, period, kind, values):
        key = (label, line, "month" if monthly else "day", period, kind)
        figures.setdefault(key, {**dict.fromkeys(FIGURES, Decimal(0)), "resource_count": 0})
        figures[key].update(values)

    for number, unallocated, monthly, period, kind, *sums in money:
        line = "unallocated" if unallocated else "total"
        values = {name: value or Decimal(0) for name, value in zip(FIGURES, sums, strict=True)}
        add(nodes[number].label, line, monthly, period, kind, values)
    for monthly, period, *labels, ungrouped, count in resources:
        # The grouping sets are prefixes: l1..lk grouped, the rest not (bits set in ungrouped).
        level = depth - ungrouped.bit_count()
        node = nodes[labels[level - 1]] if level else root
        counted = {"resource_count": count}
        # Distinct resources are counted on usage rows, so they sit on the usage line.
        if level_of[node.label] == level:
            add(node.label, "total", monthly, period, "usage", counted)
        if level == depth and node.children:
            add(node.label, "unallocated", monthly, period, "usage", counted)
    return elapsed, {key: value for key, value in figures.items() if any(value.values())}


# --- the engine -------------------------------------------------------------------------------


def engine(root: Node) -> float:
    from segments.services import segment_tree_refresh

    started = time.perf_counter()
    segment_tree_refresh(root.segment.pk)
    return time.perf_counter() - started


def stored_metrics(root: Node) -> dict:
    from segments.models import SegmentMetric

    ids = [node.segment.pk for node in root.walk()]
    stored = {}
    for metric in SegmentMetric.objects.filter(segment_id__in=ids):
        key = (
            str(metric.segment_id),
            metric.line,
            metric.granularity,
            metric.period_start,
            metric.charge_kind,
        )
        stored[key] = {name: getattr(metric, name) for name in [*FIGURES, "resource_count"]}
    return stored


def check(root: Node, figures: dict) -> int:
    """Abort unless the engine's stored metrics are the baseline's figures. Returns rows."""
    stored = stored_metrics(root)
    problems = []
    for key in sorted(set(stored) | set(figures), key=str):
        if key not in stored or key not in figures:
            where = "engine" if key in stored else "baseline"
            problems.append(f"{key}: only in the {where}")
            continue
        for name, ours in stored[key].items():
            theirs = figures[key][name]
            same = ours == theirs if name == "resource_count" else abs(ours - theirs) < 0.005
            if not same:
                problems.append(f"{key} {name}: engine {ours} != baseline {theirs}")
    if problems:
        print(f"\nMISMATCH between engine and baseline ({len(problems)} differences):")
        for problem in problems[:20]:
            print("  " + problem)
        raise SystemExit(1)
    return len(stored)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database",
        default="costline_segbench",
        help="used when DATABASE_URL is not set (dropped and re-created)",
    )
    parser.add_argument(
        "--flat-case",
        action="store_true",
        help="baseline labels rows with the engine's flat CASE instead of a nested one",
    )
    args = parser.parse_args()
    global FLAT_CASE
    FLAT_CASE = args.flat_case
    setup(database_name(args.database))
    from costs.models import Integration
    from organizations.services import organization_create
    from segments import allocation, services
    from segments.models import Segment

    missing = set(allocation.MONEY_FIELDS) ^ set(FIGURES)
    if missing:
        raise SystemExit(f"baseline and engine figures differ: {sorted(missing)}")

    organization = organization_create("Bench")
    integration = Integration.objects.create(organization=organization, provider="aws", name="b")
    started = time.perf_counter()
    load_rows(organization, integration, args.rows, args.seed)
    print(f"loaded {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    Segment.objects.filter(organization=organization).delete()
    env_team = [("env", "prod"), ("env", "staging"), ("team", "data"), ("team", "web")]
    all_tags = [("env", env) for env in ENVS] + [("team", team) for team in TEAMS]
    # Creating a segment asks for its tree's refresh; the bench times refreshes itself.
    with mock.patch.object(services, "tree_refresh_enqueue", lambda *args, **kwargs: None):
        trees = [
            build_tree(organization, "small", env_team, grandchildren=4),
            build_tree(organization, "large", all_tags, grandchildren=9),
        ]
    sizes = [len(list(tree.walk())) for tree in trees]
    times = {size: {"engine": [], "baseline": []} for size in sizes}
    checked = {}
    for round_ in range(1, args.rounds + 1):
        for size, tree in zip(sizes, trees, strict=True):
            ours = engine(tree)
            theirs, figures = baseline(tree)
            checked[size] = check(tree, figures)
            times[size]["engine"].append(ours)
            times[size]["baseline"].append(theirs)
            print(
                f"round {round_}, {size} segments: engine {ours:6.2f} s, "
                f"baseline {theirs:6.2f} s, {checked[size]:,} metric rows identical"
            )

    case = "flat" if FLAT_CASE else "nested"
    print(f"\n{args.rows:,} rows, median of {args.rounds} interleaved rounds, {case} CASE")
    print(
        "| segments | metric rows | engine | baseline | engine / baseline "
        "| median of the rounds' ratios |"
    )
    print("|---|---|---|---|---|---|")
    medians = {}
    for size in sizes:
        ours, theirs = times[size]["engine"], times[size]["baseline"]
        medians[size] = (statistics.median(ours), statistics.median(theirs))
        print(
            f"| {size} | {checked[size]:,} | {medians[size][0]:.2f} s | {medians[size][1]:.2f} s "
            f"| {medians[size][0] / medians[size][1]:.2f}× | {median_ratio(ours, theirs):.2f}× |"
        )
    (small, large) = sizes
    for index, who in enumerate(("engine", "baseline")):
        print(
            f"segments ×{large / small:.1f} ({small} → {large}): {who} time "
            f"×{medians[large][index] / medians[small][index]:.2f} (medians), "
            f"×{median_ratio(times[large][who], times[small][who]):.2f} (per round)"
        )


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the rounds' ratios (each round's two times were measured side by side)."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


if __name__ == "__main__":
    main()
