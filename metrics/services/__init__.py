"""Writes of the metrics app, one module per concern; every public name is importable from here.

- ``catalogue``: product families, products, customers;
- ``definitions``: billable metrics (the definition rules, create, update, archive);
- ``ingest``: usage events in, their days marked dirty;
- ``materialize``: dirty days recomputed into the daily usage tables (by workers, and by
  ``usage_refresh`` before a read).
"""

from .catalogue import (
    customer_create,
    customer_update,
    product_create,
    product_family_create,
    product_family_update,
    product_update,
)
from .definitions import (
    CODE_PATTERN,
    DEFINITION_FIELDS,
    metric_archive,
    metric_create,
    metric_has_usage,
    metric_unarchive,
    metric_update,
    metric_wire,
)
from .ingest import MAX_EVENTS_PER_REQUEST, MAX_FUTURE, IngestResult, events_ingest
from .materialize import (
    MATERIALIZE_BATCH,
    MATERIALIZE_DEBOUNCE_SECONDS,
    MATERIALIZE_TRANSACTION,
    usage_materialization_schedule,
    usage_materialize_pending,
    usage_materialize_retry,
    usage_materialize_run,
    usage_refresh,
)

__all__ = [
    "CODE_PATTERN",
    "DEFINITION_FIELDS",
    "MATERIALIZE_BATCH",
    "MATERIALIZE_DEBOUNCE_SECONDS",
    "MATERIALIZE_TRANSACTION",
    "MAX_EVENTS_PER_REQUEST",
    "MAX_FUTURE",
    "IngestResult",
    "customer_create",
    "customer_update",
    "events_ingest",
    "metric_archive",
    "metric_create",
    "metric_has_usage",
    "metric_unarchive",
    "metric_update",
    "metric_wire",
    "product_create",
    "product_family_create",
    "product_family_update",
    "product_update",
    "usage_materialization_schedule",
    "usage_materialize_pending",
    "usage_materialize_retry",
    "usage_materialize_run",
    "usage_refresh",
]
