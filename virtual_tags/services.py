"""Virtual tags: checking a definition, saving it (with what it moves), and applying it.

``config_create`` / ``config_update`` / ``config_delete`` and the value functions are what the
API, the pages and the admin call. Each change records, in the config's history
(django-simple-history: who, when, the definition after it), how much cost it moved over the last
full month (``money_moved``), then enqueues ``apply``: Celery computes the data-derived shares,
refreshes the tag's filter values and the segment trees, and reports progress per provider
(``VirtualTagStatus``, Vantage's ``/status``).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from business.models import BusinessMetric
from business.selectors import daily_values
from core.background import task
from core.errors import NotFoundError, ServiceError, UnprocessableError
from costs.columnar.query import ROWS, select_rows
from costs.columnar.sql import Params
from costs.models import DimensionField, DimensionValue, Integration
from costs.selectors import last_full_month
from segments.filter_tree import FilterError, parse_vql
from segments.selectors import top_level_segments
from segments.services import tree_refresh_enqueue

from . import expand
from .models import AsyncUpdate, VirtualTagConfig, VirtualTagStatus, new_value_token

logger = logging.getLogger(__name__)

MAX_VALUES = 500
MAX_NAME = 255
COST_COLUMN = "billed_cost"
SHARE = "(tupleElement({p}, 3) - tupleElement({p}, 2))"  # a piece's share (costs.columnar.split)
TRANSFORM_TYPES = ("split", "format")


def person(user):
    """The signed-in user behind a request, or None (an API token acts for no one)."""
    return user if isinstance(user, get_user_model()) else None


# --------------------------------------------------------------------------- checking


def _check_vql(text, field: str) -> str | None:
    if text is None or not str(text).strip():
        return None
    if not isinstance(text, str):
        raise ServiceError("must be a VQL string.", field=field)
    try:
        parse_vql(text, vantage_rules=False)
    except FilterError as error:
        raise ServiceError(f"is not a valid filter: {error}", field=field) from error
    return text


def _check_date(text, field: str) -> date | None:
    if text in (None, ""):
        return None
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text))
    except ValueError as error:
        raise ServiceError("must be a date (YYYY-MM-DD).", field=field) from error


def check_collapsed_keys(items, field: str = "collapsed_tag_keys") -> list[dict]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise ServiceError("must be a list.", field=field)
    checked = []
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or not str(item.get("key") or "").strip():
            raise ServiceError("needs a key.", field=f"{where}.key")
        providers = item.get("providers") or []
        if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
            raise ServiceError("must be a list of providers.", field=f"{where}.providers")
        checked.append(
            {
                "key": str(item["key"]).strip(),
                "providers": providers,
                "filter": _check_vql(item.get("filter"), f"{where}.filter"),
            }
        )
    return checked


def _check_percentages(items, where: str) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise ServiceError("must be a non-empty list.", field=f"{where}.percentages")
    checked, total = [], Decimal(0)
    for index, item in enumerate(items):
        at = f"{where}.percentages[{index}]"
        if not isinstance(item, dict) or not str(item.get("value") or "").strip():
            raise ServiceError("needs a value.", field=f"{at}.value")
        try:
            pct = Decimal(str(item.get("pct")))
        except (InvalidOperation, ValueError) as error:
            raise ServiceError("must be a number.", field=f"{at}.pct") from error
        if not pct.is_finite() or pct <= 0 or pct > 100:
            raise ServiceError("must be more than 0 and at most 100.", field=f"{at}.pct")
        total += pct
        checked.append({"value": str(item["value"]).strip()[:MAX_NAME], "pct": float(pct)})
    if total > 100:
        raise ServiceError(
            f"add up to {total}; they must add up to 100 at most.", field=f"{where}.percentages"
        )
    return checked


def _check_transforms(items, where: str) -> list[dict]:
    if not items:
        return []
    if not isinstance(items, list):
        raise ServiceError("must be a list.", field=f"{where}.label_transforms")
    checked = []
    for index, item in enumerate(items):
        at = f"{where}.label_transforms[{index}]"
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in TRANSFORM_TYPES:
            raise ServiceError("must be split or format.", field=f"{at}.type")
        if kind == "split":
            if not item.get("delimiter") or not isinstance(item.get("index"), int):
                raise ServiceError("split needs a delimiter and an index.", field=at)
        elif "{label}" not in str(item.get("template") or ""):
            raise ServiceError("format needs a template holding {label}.", field=f"{at}.template")
        checked.append(
            {
                "type": kind,
                "delimiter": item.get("delimiter"),
                "index": item.get("index"),
                "template": item.get("template"),
            }
        )
    return checked


def check_value(organization, data: dict, where: str = "value", token: str | None = None) -> dict:
    """One value in Vantage's shape, checked: a filter and exactly one way to name the cost."""
    if not isinstance(data, dict):
        raise ServiceError("must be an object.", field=where)
    kinds = [
        kind
        for kind in ("name", "percentages", "business_metric_token", "cost_metric")
        if data.get(kind) not in (None, "", [])
    ]
    if len(kinds) != 1:
        raise ServiceError(
            "needs exactly one of name, percentages, business_metric_token or cost_metric.",
            field=where,
        )
    value = {
        "token": token or data.get("token") or new_value_token(),
        "filter": _check_vql(data.get("filter"), f"{where}.filter"),
        "name": None,
        "business_metric_token": None,
        "label_key": data.get("label_key") or None,
        "label_values": None,
        "cost_metric": None,
        "display_name": (
            str(data["display_name"])[:MAX_NAME] if data.get("display_name") else None
        ),
        "label_transforms": _check_transforms(data.get("label_transforms"), where),
        "percentages": [],
        "date_ranges": [],
    }
    kind = kinds[0]
    if kind == "name":
        value["name"] = str(data["name"]).strip()[:MAX_NAME]
    elif kind == "percentages":
        value["percentages"] = _check_percentages(data["percentages"], where)
    elif kind == "business_metric_token":
        token_text = data["business_metric_token"]
        if not BusinessMetric.objects.filter(organization=organization, token=token_text).exists():
            raise NotFoundError(
                "Business metric not found.", field=f"{where}.business_metric_token"
            )
        value["business_metric_token"] = token_text
        labels = data.get("label_values")
        if labels is not None and (
            not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)
        ):
            raise ServiceError("must be a list of labels.", field=f"{where}.label_values")
        value["label_values"] = labels or []
    else:
        metric = data["cost_metric"]
        tag = (metric.get("aggregation") or {}).get("tag") if isinstance(metric, dict) else None
        if not tag:
            raise ServiceError(
                "needs aggregation.tag: the tag whose values share the cost.",
                field=f"{where}.cost_metric.aggregation.tag",
            )
        value["cost_metric"] = {
            "filter": _check_vql(metric.get("filter"), f"{where}.cost_metric.filter"),
            "aggregation": {"tag": str(tag)},
        }
    ranges = data.get("date_ranges") or []
    if not isinstance(ranges, list):
        raise ServiceError("must be a list.", field=f"{where}.date_ranges")
    for index, item in enumerate(ranges):
        at = f"{where}.date_ranges[{index}]"
        item = item if isinstance(item, dict) else {}
        start = _check_date(item.get("start_date"), f"{at}.start_date")
        end = _check_date(item.get("end_date"), f"{at}.end_date")
        if start and end and end < start:
            raise ServiceError("must not be before start_date.", field=f"{at}.end_date")
        value["date_ranges"].append(
            {
                "start_date": start.isoformat() if start else None,
                "end_date": end.isoformat() if end else None,
            }
        )
    return value


def check_values(organization, items, field: str = "values") -> list[dict]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise ServiceError("must be a list.", field=field)
    if len(items) > MAX_VALUES:
        raise ServiceError(f"at most {MAX_VALUES} values.", field=field)
    return [check_value(organization, item, f"{field}[{i}]") for i, item in enumerate(items)]


def check_key(organization, key, config: VirtualTagConfig | None = None) -> str:
    key = str(key or "").strip()
    if not key:
        raise ServiceError("is required.", field="key")
    if len(key) > MAX_NAME:
        raise ServiceError(f"is at most {MAX_NAME} characters.", field="key")
    taken = VirtualTagConfig.objects.filter(organization=organization, key=key)
    if config is not None:
        taken = taken.exclude(pk=config.pk)
    if taken.exists():
        raise UnprocessableError("is already the key of another virtual tag.", field="key")
    return key


def first_of_month(day: date) -> date:
    return day.replace(day=1)


# --------------------------------------------------------------------------- money moved


def _distribution_sql(config: VirtualTagConfig | None, params: Params) -> str:
    """The (value, share) pairs of a config's key for a row, the row's own tag when none."""
    if config is None:
        return f"CAST([(ifNull(tags[{{vt_key:String}}], ''), 0, 1)] AS {expand.SHARES_TYPE})"
    shares = expand.shares_sql(config, params)
    return (
        f"arrayMap(p -> (if(tupleElement(p, 1) = '', ifNull(tags[{{vt_key:String}}], ''), "
        f"tupleElement(p, 1)), tupleElement(p, 2), tupleElement(p, 3)), {shares})"
    )


def money_moved(
    organization_id,
    key: str,
    before: VirtualTagConfig | None,
    after: VirtualTagConfig | None,
    *,
    month: tuple[date, date] | None = None,
) -> list[dict]:
    """How much cost of the last full month moves from which value of ``key`` to which when
    ``before`` becomes ``after`` (either None: no virtual tag). A row split across values moves
    ``cost × old share × new share`` from each old value to each new one; "" is untagged.

    The rows are read with the other virtual tags applied and this key's own left out, so a
    change is measured against provider tags and the tags it may test."""
    start, end = month or last_full_month()
    params = Params(prefix="m")
    others = [
        config
        for config in expand.configs_of(organization_id)
        if config.key != key and (before is None or config.pk != before.pk)
    ]
    source = expand.expand(ROWS, others, params)[0]
    old = _distribution_sql(before, params)
    new = _distribution_sql(after, params)
    sql = (
        "SELECT tupleElement(o, 1) AS source, tupleElement(n, 1) AS target, "
        f"sum(toDecimal128(toDecimal128({COST_COLUMN} * {SHARE.format(p='o')}, 10) "
        f"* {SHARE.format(p='n')}, 10)) AS amount, "
        "any(billing_currency) AS currency "
        f"FROM (SELECT *, {old} AS olds, {new} AS news FROM {source} "
        f"WHERE charge_period_start BETWEEN {params.day(start)} AND {params.day(end)}) "
        "ARRAY JOIN olds AS o ARRAY JOIN news AS n "
        "WHERE source != target GROUP BY source, target HAVING amount != 0 "
        "ORDER BY abs(amount) DESC, source, target"
    )
    # Other tags are applied inside `source` above; the hook must not apply this key again.
    rows = select_rows(organization_id, sql, {**params.values, "vt_key": key}, raw_tags=True)
    return [
        {
            "from": row["source"],
            "to": row["target"],
            "amount": format(Decimal(row["amount"]).quantize(Decimal("0.01")), "f"),
            "currency": row["currency"],
            "month": start.isoformat()[:7],
        }
        for row in rows
    ]


def checked_definition(organization, data: dict, config: VirtualTagConfig | None) -> dict:
    """``data`` over ``config``'s definition (fields left out keep theirs), checked."""
    key = check_key(organization, data.get("key", config.key if config else None), config)
    backfill = _check_date(data.get("backfill_until"), "backfill_until")
    if backfill is None:
        backfill = config.backfill_until if config else default_backfill()
    return {
        "key": key,
        "overridable": bool(data.get("overridable", config.overridable if config else False)),
        "backfill_until": first_of_month(backfill),
        "collapsed_tag_keys": check_collapsed_keys(
            data.get("collapsed_tag_keys", config.collapsed_tag_keys if config else [])
        ),
        "values": check_values(organization, data.get("values", config.values if config else [])),
    }


def preview_request(organization, config: VirtualTagConfig | None, data: dict) -> list:
    """The money moved by a proposed change (``data`` as a create or update body)."""
    definition = checked_definition(organization, data, config)
    return preview(organization, definition["key"], definition, config)


def preview(organization, key: str, definition: dict, config: VirtualTagConfig | None) -> list:
    """The money a proposed definition would move (nothing is saved)."""
    proposed = VirtualTagConfig(
        organization=organization,
        key=key,
        overridable=definition.get("overridable", False),
        backfill_until=definition.get("backfill_until") or date(2000, 1, 1),
        collapsed_tag_keys=definition.get("collapsed_tag_keys") or [],
        values=definition.get("values") or [],
        computed_shares=compute_shares_of(organization.pk, definition.get("values") or []),
    )
    return money_moved(organization.pk, key, config, proposed)


# --------------------------------------------------------------------------- saving


def _record(config: VirtualTagConfig, before: VirtualTagConfig | None, user) -> None:
    try:
        config.money_moved = money_moved(config.organization_id, config.key, before, config)
    except Exception:  # a preview failing must never block the change itself
        logger.exception("money moved of virtual tag %s", config.token)
        config.money_moved = []
    config._history_user = person(user)
    config.save()


def _snapshot(config: VirtualTagConfig) -> VirtualTagConfig:
    return VirtualTagConfig(
        pk=config.pk,
        organization_id=config.organization_id,
        key=config.key,
        overridable=config.overridable,
        backfill_until=config.backfill_until,
        collapsed_tag_keys=list(config.collapsed_tag_keys),
        values=list(config.values),
        computed_shares=dict(config.computed_shares),
    )


def config_create(organization, *, user=None, **data) -> VirtualTagConfig:
    key = check_key(organization, data.get("key"))
    backfill = _check_date(data.get("backfill_until"), "backfill_until")
    config = VirtualTagConfig(
        organization=organization,
        key=key,
        overridable=bool(data.get("overridable", False)),
        backfill_until=first_of_month(backfill or default_backfill()),
        collapsed_tag_keys=check_collapsed_keys(data.get("collapsed_tag_keys")),
        values=check_values(organization, data.get("values")),
        created_by=person(user),
    )
    with transaction.atomic():
        config.computed_shares = compute_shares(config)
        _record(config, None, user)
        apply_enqueue(config)
    return config


def default_backfill() -> date:
    """A year back: the history a new tag applies to unless told otherwise."""
    today = timezone.now().date()
    return date(today.year - 1, today.month, 1)


def config_update(config: VirtualTagConfig, *, user=None, **data) -> VirtualTagConfig:
    """Change the fields given (``values`` replaces the whole list, keeping the tokens of values
    that carry theirs)."""
    before = _snapshot(config)
    if "key" in data:
        config.key = check_key(config.organization, data["key"], config)
    if "overridable" in data:
        config.overridable = bool(data["overridable"])
    if data.get("backfill_until") is not None:
        config.backfill_until = first_of_month(
            _check_date(data["backfill_until"], "backfill_until")
        )
    if "collapsed_tag_keys" in data:
        config.collapsed_tag_keys = check_collapsed_keys(data["collapsed_tag_keys"])
    if "values" in data:
        # A value keeps its token when the body carries it back; any other token is made here.
        known = {value["token"] for value in config.values}
        items = data["values"] or []
        if isinstance(items, list):
            items = [
                {k: v for k, v in item.items() if k != "token" or v in known}
                if isinstance(item, dict)
                else item
                for item in items
            ]
        config.values = check_values(config.organization, items)
    with transaction.atomic():
        config.computed_shares = compute_shares(config)
        _record(config, before, user)
        apply_enqueue(config)
    return config


def config_delete(config: VirtualTagConfig, *, user=None) -> None:
    organization_id, key = config.organization_id, config.key
    config._history_user = person(user)
    config.delete()
    DimensionValue.objects.filter(
        organization_id=organization_id, field=DimensionField.TAG, key=key
    ).delete()
    transaction.on_commit(lambda: refresh_segments(organization_id))


def config_update_async(config: VirtualTagConfig, *, user=None, **data) -> AsyncUpdate:
    """Check the change now (bad input is refused at once), save it from Celery."""
    checked_definition(config.organization, data, config)
    update = AsyncUpdate.objects.create(
        config=config,
        # Stored as JSON (dates as ISO text, which the update reads back alike).
        changes=json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
        requested_by=person(user),
    )
    update_id = update.pk
    transaction.on_commit(lambda: task("virtual_tags.update_async").delay(update_id))
    return update


def run_async_update(update_id) -> AsyncUpdate | None:
    update = AsyncUpdate.objects.select_related("config").filter(pk=update_id).first()
    if update is None or update.status != AsyncUpdate.State.PENDING:
        return update
    try:
        config_update(update.config, user=update.requested_by, **update.changes)
    except ServiceError as error:
        update.status, update.error = AsyncUpdate.State.FAILED, str(error)
    else:
        update.status = AsyncUpdate.State.COMPLETED
    update.save(update_fields=["status", "error"])
    return update


def value_create(config: VirtualTagConfig, data: dict, *, user=None) -> dict:
    value = check_value(config.organization, data)
    config_update(config, user=user, values=[*config.values, value])
    return config.values[-1]


def value_update(config: VirtualTagConfig, token: str, data: dict, *, user=None) -> dict:
    values = list(config.values)
    index = next(i for i, value in enumerate(values) if value["token"] == token)
    merged = {**values[index], **data}
    for kind in ("name", "percentages", "business_metric_token", "cost_metric"):
        if kind in data and data[kind] not in (None, "", []):
            for other in ("name", "percentages", "business_metric_token", "cost_metric"):
                if other != kind and other not in data:
                    merged[other] = None
    values[index] = check_value(config.organization, merged, token=token)
    config_update(config, user=user, values=values)
    return values[index]


def value_delete(config: VirtualTagConfig, token: str, *, user=None) -> None:
    config_update(
        config, user=user, values=[value for value in config.values if value["token"] != token]
    )


# --------------------------------------------------------------------------- shares from data


def _transform_label(label: str, transforms: list[dict]) -> str:
    for item in transforms:
        if item["type"] == "split":
            parts = label.split(item["delimiter"])
            label = parts[item["index"]] if -len(parts) <= item["index"] < len(parts) else ""
        else:
            label = item["template"].replace("{label}", label)
    return label


def _normalized(amounts: dict[str, Decimal]) -> list[list[str]]:
    positive = {label: amount for label, amount in amounts.items() if amount > 0 and label}
    total = sum(positive.values())
    if not total:
        return []
    return [
        [label, format((amount / total).quantize(Decimal("1e-12")), "f")]
        for label, amount in sorted(positive.items())
    ]


def business_metric_shares(organization_id, value: dict, start: date, end: date) -> dict:
    """Each day's label shares of a business metric (labels transformed, filtered)."""
    metric = BusinessMetric.objects.filter(
        organization_id=organization_id, token=value["business_metric_token"]
    ).first()
    if metric is None:
        return {}
    labels = value.get("label_values") or None
    by_day: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for day, label, amount in daily_values(metric, start, end, labels):
        by_day[day][_transform_label(label, value.get("label_transforms") or [])] += amount
    shares = {day.isoformat(): _normalized(amounts) for day, amounts in by_day.items()}
    return {day: pairs for day, pairs in shares.items() if pairs}


def cost_metric_shares(organization_id, value: dict, start: date, end: date) -> dict:
    """Each month's shares of the cost matching ``cost_metric.filter``, by the values of its
    aggregation tag (provider tags: a virtual tag cannot share by itself)."""
    params = Params(prefix="c")
    tag = params.text(value["cost_metric"]["aggregation"]["tag"])
    condition = expand.filter_sql(value["cost_metric"].get("filter"), params)
    rows = select_rows(
        organization_id,
        f"SELECT toStartOfMonth(charge_period_start) AS month, "
        f"ifNull(tags[{tag}], '') AS label, sum({COST_COLUMN}) AS amount FROM {ROWS} "
        f"WHERE mapContains(tags, {tag}) AND {condition} "
        f"AND charge_period_start BETWEEN {params.day(start)} AND {params.day(end)} "
        "GROUP BY month, label",
        params.values,
        raw_tags=True,
    )
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        by_month[row["month"]][row["label"]] = Decimal(row["amount"])
    shares = {month.isoformat(): _normalized(amounts) for month, amounts in by_month.items()}
    return {month: pairs for month, pairs in shares.items() if pairs}


def compute_shares_of(organization_id, values: list[dict], since: date | None = None) -> dict:
    start = since or date(2000, 1, 1)
    end = timezone.now().date() + timedelta(days=366)
    computed = {}
    for value in values:
        if value.get("business_metric_token"):
            computed[value["token"]] = business_metric_shares(organization_id, value, start, end)
        elif value.get("cost_metric"):
            computed[value["token"]] = cost_metric_shares(organization_id, value, start, end)
    return computed


def compute_shares(config: VirtualTagConfig) -> dict:
    return compute_shares_of(config.organization_id, config.values, config.backfill_until)


# --------------------------------------------------------------------------- applying


def providers_of(organization_id) -> list[str]:
    return sorted(
        set(
            Integration.objects.filter(organization_id=organization_id).values_list(
                "provider", flat=True
            )
        )
    )


def apply_enqueue(config: VirtualTagConfig) -> None:
    """Mark every provider queued and ask Celery to apply the config once this commits."""
    providers = providers_of(config.organization_id)
    VirtualTagStatus.objects.filter(config=config).exclude(provider__in=providers).delete()
    for provider in providers:
        VirtualTagStatus.objects.update_or_create(
            config=config, provider=provider, defaults={"status": "queued", "error": ""}
        )
    config_id = config.pk
    transaction.on_commit(lambda: task("virtual_tags.apply").delay(config_id))


def _set_status(config, provider: str, status: str, error: str = "") -> None:
    VirtualTagStatus.objects.update_or_create(
        config=config, provider=provider, defaults={"status": status, "error": error[:2000]}
    )


def record_dimension_values(config: VirtualTagConfig, provider: str) -> int:
    """The key's values as filters and ``/v2/tags`` list them, per integration and period."""
    params = Params(prefix="d")
    key = params.text(config.key)
    rows = select_rows(
        config.organization_id,
        f"SELECT DISTINCT integration_id, billing_period_start, ifNull(tags[{key}], '') AS value "
        f"FROM {ROWS} WHERE mapContains(tags, {key})",
        params.values,
        provider=provider,
    )
    DimensionValue.objects.filter(
        organization_id=config.organization_id,
        provider=provider,
        field=DimensionField.TAG,
        key=config.key,
    ).delete()
    DimensionValue.objects.bulk_create(
        [
            DimensionValue(
                organization_id=config.organization_id,
                provider=provider,
                integration_id=row["integration_id"],
                billing_period_start=row["billing_period_start"],
                field=DimensionField.TAG,
                key=config.key,
                value=row["value"][:512],
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
    return len(rows)


def refresh_segments(organization_id, provider: str | None = None) -> None:
    for top in top_level_segments(organization_id, provider):
        tree_refresh_enqueue(top)


def apply(config_id) -> VirtualTagConfig | None:
    """Apply a config: shares from data, the key's filter values, the segment trees; status per
    provider. Safe to run twice (every step replaces what it writes)."""
    config = VirtualTagConfig.objects.filter(pk=config_id).first()
    if config is None:
        return None
    computed = compute_shares(config)
    if computed != config.computed_shares:
        VirtualTagConfig.objects.filter(pk=config.pk).update(computed_shares=computed)
        config.computed_shares = computed
    for provider in providers_of(config.organization_id):
        _set_status(config, provider, "processing")
        try:
            with transaction.atomic():
                record_dimension_values(config, provider)
                refresh_segments(config.organization_id, provider)
        except Exception as error:
            logger.exception("applying virtual tag %s to %s", config.token, provider)
            _set_status(config, provider, "failed", str(error))
        else:
            _set_status(config, provider, "complete")
    return config


def apply_after_import(organization_id, provider: str) -> None:
    """New cost data: every config of the organization is applied again (shares by other costs
    and the key's values may change)."""
    for config in VirtualTagConfig.objects.filter(organization_id=organization_id):
        _set_status(config, provider, "queued")
        config_id = config.pk
        transaction.on_commit(
            lambda config_id=config_id: task("virtual_tags.apply").delay(config_id)
        )
