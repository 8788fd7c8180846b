"""Apply virtual tags where cost rows are read: the SQL that turns raw rows into tagged lines.

``costs.columnar.query`` hands every query that reads ``tags`` to ``rows_transform`` (registered
from ``VirtualTagsConfig.ready``); it wraps the rows source once per config, in creation order
(a later tag may test an earlier one):

1. each row gets the list of (value, share) pairs of the config's key, by precedence:
   - not ``overridable``: a provider tag of the key keeps the row as it is; else the first
     collapsed key present on the row gives its value; else the first matching value;
   - ``overridable``: the first matching value; else the provider tag; else a collapsed key;
   - a value matches when its VQL filter does, the day is in one of its ``date_ranges`` (none:
     always) and, for a split by a business metric or by other costs, shares exist for that day
     (or month); no match leaves the row untagged; rows before ``backfill_until`` are untouched;
2. ``ARRAY JOIN`` makes one line per pair: the key set to the value in ``tags`` (a share with an
   empty value keeps the row untagged: the part of a split that percentages below 100 leave);
3. money and quantities are split exactly (``costs.columnar.split``): the lines of a row sum to
   the row to the last digit, so no cent is lost or invented.

The work is one pass over the rows with one ``multiIf`` per config: linear in rows, whatever the
number of values (``bench/virtual_tags.py``). Shares that depend on data (business metrics, other
costs) are computed by Celery (``services.compute_shares``) and read from the config.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from costs.columnar.rollup import ROLLUP_KEYS, ROLLUP_MONEY
from costs.columnar.schema import column_type
from costs.columnar.split import SHARE_TYPE, cumulative, line_label, split_rows
from costs.columnar.sql import Params
from costs.columnar.tags import rewrite_tag_reads
from costs.focus import MONEY_COLUMNS, QUANTITY_COLUMNS
from segments.filter_tree import parse_vql
from segments.filter_tree.sql import columns_of, to_sql

from .models import VirtualTagConfig

# (value, lower, upper): pieces of [0, 1] (``costs.columnar.split``); "" keeps the row untagged.
SHARES_TYPE = f"Array(Tuple(String, {SHARE_TYPE}, {SHARE_TYPE}))"
KEEP = f"CAST([('', 0, 1)] AS {SHARES_TYPE})"
DAY = "charge_period_start"


def share_text(share: Decimal) -> str:
    return format(Decimal(share).quantize(Decimal("1e-12")), "f")


def shares_literal(pairs: Iterable[tuple[str, Decimal]], params: Params) -> str:
    items = ", ".join(
        f"({params.text(name)}, {share_text(lower)}, {share_text(upper)})"
        for name, lower, upper in cumulative(pairs)
    )
    return f"CAST([{items}] AS {SHARES_TYPE})"


def shares_map(by_day: dict[str, list], params: Params) -> str:
    """Computed shares keyed by day (ISO text) as a ``Map(Date, shares)`` query parameter."""
    entries = []
    for day, pairs in sorted(by_day.items()):
        pieces = cumulative((name, Decimal(share)) for name, share in pairs)
        items = ",".join(
            f"({_quoted(name)},{share_text(lower)},{share_text(upper)})"
            for name, lower, upper in pieces
        )
        entries.append(f"'{day}':[{items}]")
    return params.add("{" + ",".join(entries) + "}", f"Map(Date, {SHARES_TYPE})")


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def filter_sql(vql: str | None, params: Params) -> str:
    if not vql or not vql.strip():
        return "true"
    return to_sql(parse_vql(vql, vantage_rules=False), params)


def filter_columns(vql: str | None) -> set[str]:
    if not vql or not vql.strip():
        return set()
    return columns_of(parse_vql(vql, vantage_rules=False))


def _date_ranges_sql(ranges: list[dict], params: Params) -> str:
    if not ranges:
        return "true"
    tests = []
    for item in ranges:
        parts = []
        if item.get("start_date"):
            parts.append(f"{DAY} >= {params.day(date.fromisoformat(item['start_date']))}")
        if item.get("end_date"):
            parts.append(f"{DAY} <= {params.day(date.fromisoformat(item['end_date']))}")
        tests.append("(" + (" AND ".join(parts) or "true") + ")")
    return "(" + " OR ".join(tests) + ")"


def value_branch(
    config: VirtualTagConfig, value: dict, params: Params
) -> tuple[str, str, bool] | None:
    """(condition, shares, whether the shares are a constant) of one value, or None when it
    can match nothing yet."""
    condition = f"{filter_sql(value.get('filter'), params)} AND " + _date_ranges_sql(
        value.get("date_ranges") or [], params
    )
    if value.get("percentages"):
        pairs = [(item["value"], Decimal(str(item["pct"])) / 100) for item in value["percentages"]]
        rest = 1 - sum(share for _, share in pairs)
        if rest > 0:
            pairs.append(("", rest))
        return condition, shares_literal(pairs, params), True
    if value.get("business_metric_token") or value.get("cost_metric"):
        computed = (config.computed_shares or {}).get(value["token"])
        if not computed:
            return None
        by_month = bool(value.get("cost_metric"))
        lookup_day = f"toStartOfMonth({DAY})" if by_month else DAY
        table = shares_map(computed, params)
        return (
            f"{condition} AND mapContains({table}, {lookup_day})",
            f"{table}[{lookup_day}]",
            False,
        )
    name = value.get("name") or value.get("display_name")
    if not name:
        return None
    return condition, shares_literal([(name, Decimal(1))], params), True


def collapsed_branches(config: VirtualTagConfig, params: Params) -> list[tuple[str, str, bool]]:
    branches = []
    for item in config.collapsed_tag_keys or []:
        key = params.text(item["key"])
        scope = "true"
        if item.get("providers"):
            scope = "provider IN (" + ", ".join(params.text(p) for p in item["providers"]) + ")"
        elif item.get("filter"):
            scope = filter_sql(item["filter"], params)
        branches.append(
            (
                f"ifNull(tags[{key}], '') != '' AND {scope}",
                f"CAST([(assumeNotNull(tags[{key}]), 0, 1)] AS {SHARES_TYPE})",
                False,
            )
        )
    return branches


def splits(config: VirtualTagConfig) -> bool:
    """Whether a row can become several lines (else the tag only names rows)."""
    return any(
        value.get("percentages") or value.get("business_metric_token") or value.get("cost_metric")
        for value in config.values or []
    )


def shares_sql(config: VirtualTagConfig, params: Params) -> str:
    """The (value, share) pairs of ``config``'s key for one row.

    The conditions pick a branch number (one ``multiIf`` of small integers, the cheap part a
    hand-written query would have too); constant shares are then one look-up in a constant
    array, and only data-dependent shares (computed maps, collapsed keys) are expressions."""
    own_tag = (f"mapContains(tags, {params.text(config.key)})", KEEP, True)
    collapsed = collapsed_branches(config, params)
    values = [
        branch
        for value in config.values or []
        if (branch := value_branch(config, value, params)) is not None
    ]
    ordered = (
        values + [own_tag] + collapsed if config.overridable else [own_tag] + collapsed + values
    )
    if not ordered:
        return KEEP
    none = len(ordered) + 1
    started = f"{DAY} < {params.day(config.backfill_until.replace(day=1))}"
    arms = ", ".join(
        f"{condition}, {number}" for number, (condition, _, _) in enumerate(ordered, 1)
    )
    branch = f"multiIf({started}, {none}, {arms}, {none})"
    table = "[" + ", ".join(shares if constant else KEEP for _, shares, constant in ordered)
    table += f", {KEEP}]"
    # An alias of the branch number, unique in the query (a query may hold several configs).
    alias = f"vt_branch_{params.prefix}{len(params.values)}"
    picked = f"arrayElement({table}, ({branch}) AS {alias})"
    dynamic = [
        f"{alias} = {number}, {shares}"
        for number, (_, shares, constant) in enumerate(ordered, 1)
        if not constant
    ]
    if dynamic:
        picked = f"multiIf({', '.join(dynamic)}, {picked})"
    return picked


def wrap(
    source: str,
    config: VirtualTagConfig,
    amounts: dict[str, str],
    params: Params,
    *,
    column: str | None = None,
    earlier: dict[str, str] | None = None,
) -> str:
    """``source`` with ``config`` applied: its value in ``column`` ("" when it sets none), or,
    without a column, written into each row's ``tags`` map. ``earlier``: the columns of the
    configs applied before (their keys, as this config's filters read them)."""
    shares = shares_sql(config, params)
    if earlier:
        shares = rewrite_tag_reads(shares, params.values, earlier)
    key = params.text(config.key)
    if not splits(config):
        # Every row stays one row: no lines, no arithmetic, only its tag value.
        value = f"tupleElement(({shares})[1], 1)"
        if column:
            return f"(SELECT *, {value} AS {column} FROM {source})"
        return f"(SELECT * REPLACE ({_tags_with(key, value)} AS tags) FROM {source})"
    if column:
        return split_rows(source, shares, amounts, added=[f"{line_label()} AS {column}"])
    return split_rows(source, shares, amounts, [f"{_tags_with(key, line_label())} AS tags"])


def _tags_with(key: str, value: str) -> str:
    return f"if({value} = '', tags, mapUpdate(tags, map({key}, CAST({value} AS Nullable(String)))))"


def config_columns(config: VirtualTagConfig) -> set[str]:
    """The cost-row columns ``config``'s SQL reads."""
    columns = {"tags", DAY, "provider"}
    for value in config.values or []:
        columns |= filter_columns(value.get("filter"))
    for item in config.collapsed_tag_keys or []:
        columns |= filter_columns(item.get("filter"))
    return columns


RAW_AMOUNTS = {name: column_type(name) for name in (*MONEY_COLUMNS, *QUANTITY_COLUMNS)}
ROLLUP_AMOUNTS = {name: "Decimal(38, 10)" for name in ROLLUP_MONEY}


def configs_of(organization_id) -> list[VirtualTagConfig]:
    return list(VirtualTagConfig.objects.filter(organization_id=organization_id))


def expand(
    source: str,
    configs: list[VirtualTagConfig],
    params: Params,
    *,
    rollup: bool = False,
    whole_tags: bool = True,
) -> tuple[str, dict[str, str]] | None:
    """``source`` with ``configs`` applied, and the columns holding their values (none with
    ``whole_tags``: the values are in each row's map); None when a rollup cannot hold what
    they test."""
    if rollup and any(not config_columns(config) <= set(ROLLUP_KEYS) for config in configs):
        return None
    amounts = ROLLUP_AMOUNTS if rollup else RAW_AMOUNTS
    columns: dict[str, str] = {}
    for number, config in enumerate(configs):
        column = None if whole_tags else f"vtag_{params.prefix}{number}"
        source = wrap(source, config, amounts, params, column=column, earlier=dict(columns))
        if column:
            columns[config.key] = column
    return source, columns


def rows_transform(
    organization_id, source: str, params: Params, *, rollup: bool, whole_tags: bool
) -> tuple[str, dict[str, str]] | None:
    """The hook ``costs.columnar.query`` calls (see the module docstring)."""
    configs = configs_of(organization_id)
    if not configs:
        return source, {}
    return expand(source, configs, params, rollup=rollup, whole_tags=whole_tags)
