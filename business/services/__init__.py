"""Writes of the business app, one module per concern; every public name is importable from here.

- ``definitions``: business metrics, cost report attachments, values sent or uploaded (CSV);
- ``live``: live metrics rebuilt from billable-metric usage (the materialization hook);
- ``exports``: unit-cost exports and FOCUS exports of allocated costs (Celery);
- ``statements``: chargeback/showback statements (CSV, PDF, e-mail) and monthly schedules.

Every surface (Vantage API, pages, admin, tasks) calls these functions.
"""

from .definitions import (
    LIVE_REFRESH_TASK,
    Attachment,
    ValueRow,
    business_metric_create,
    business_metric_delete,
    business_metric_update,
    business_metric_validate,
    parse_amount,
    parse_date,
    parse_values_csv,
    value_rows,
    values_csv_import,
    values_delete,
)
from .exports import (
    FOCUS_EXPORT_TASK,
    UNIT_COSTS_EXPORT_TASK,
    focus_export_create,
    focus_export_run,
    unit_costs_export_create,
    unit_costs_export_run,
)
from .live import (
    live_metric_bring_up_to_date,
    live_metric_refresh_all,
    live_metrics_refresh_days,
    live_values_refresh,
    usage_day_materialized,
)
from .statements import (
    STATEMENT_TASK,
    statement_create,
    statement_directory,
    statement_email,
    statement_generate,
    statements_send_monthly,
)

__all__ = [
    "FOCUS_EXPORT_TASK",
    "LIVE_REFRESH_TASK",
    "STATEMENT_TASK",
    "UNIT_COSTS_EXPORT_TASK",
    "Attachment",
    "ValueRow",
    "business_metric_create",
    "business_metric_delete",
    "business_metric_update",
    "business_metric_validate",
    "focus_export_create",
    "focus_export_run",
    "live_metric_bring_up_to_date",
    "live_metric_refresh_all",
    "live_metrics_refresh_days",
    "live_values_refresh",
    "parse_amount",
    "parse_date",
    "parse_values_csv",
    "statement_create",
    "statement_directory",
    "statement_email",
    "statement_generate",
    "statements_send_monthly",
    "unit_costs_export_create",
    "unit_costs_export_run",
    "usage_day_materialized",
    "value_rows",
    "values_csv_import",
    "values_delete",
]
