"""Contract fuzzing: every documented operation, called with generated input, answers as documented.

schemathesis reads our own OpenAPI document and calls the WSGI app in-process. Path parameters are
the caller's own objects (organization, segments, metrics, ...), so requests get past the lookups
and exercise the bodies; every response (status, content type, headers, body) is checked against
the document, and generated invalid data must be rejected with a 4xx.
"""

import os

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.cache import clear_cache

from .contract import authenticate, credential, load_schema, own_path_parameters

schema = load_schema()
if os.environ.get("CONTRACT_FUZZ_PATHS"):  # to replay one area: a regular expression of paths
    schema = schema.include(path_regex=os.environ["CONTRACT_FUZZ_PATHS"])

schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=10,
    with_security_parameters=False,
    # A NUL character is refused everywhere (400): PostgreSQL text cannot hold it.
    allow_x00=False,
)


# Rules no JSON schema states: a request the document allows may still be refused with a 400
# because of what its values mean. There, schema-valid input need not be accepted (it still must
# get a documented status and body); everywhere else it must.
MEANINGFUL_VALUES = {
    "POST /api/v1/filters/validate": "a VQL string or structured conditions that parse",
    "POST /beta/v1/org/{org_id}/segments": "structured conditions that parse",
    "PATCH /beta/v1/org/{org_id}/segments/{segment_id}": "structured conditions that parse",
    "POST /v2/segments": "a VQL filter that parses",
    "PUT /v2/segments/{segment_token}": "a VQL filter that parses",
    "POST /api/v1/metrics": "existing product family/product, aggregation rules",
    "PATCH /api/v1/metrics/{id}": "existing product family/product, aggregation rules",
    "POST /api/v1/products": "an existing product family",
    "GET /api/v1/products": "an existing product family",
    "GET /api/v1/metrics/{id}/usage": "an existing customer, a range the window allows",
    "GET /api/v1/unit-costs": "an existing metric and segment, 'to' not before 'from'",
    "GET /api/v1/costs": "a range the granularity allows (at most 400 days by day)",
    "GET /api/v1/metrics": "an existing product family and product",
    "GET /api/v1/events": "time-zone offsets within ±15:59 (what PostgreSQL stores)",
    "POST /api/v1/integrations/{integration_id}/imports": "a FOCUS export: a file, not empty",
    "POST /api/v1/integrations/{integration_id}/sync": "an integration that has a source",
    # The document could say this one (a oneOf per source type); it does not yet.
    "POST /api/v1/integrations": "only the fields of the source's type (s3, azure, gcs)",
    "PATCH /api/v1/integrations/{id}": "only the fields of the source's type (s3, azure, gcs)",
    "POST /api/v1/integrations/{integration_id}/test": "an integration that has a source",
    "POST /v2/cost_reports": "VQL that parses, existing folder and saved filters of its "
    "workspace, start_date with end_date in order, no hourly bin, a y axis of cost/usage/count",
    "PUT /v2/cost_reports/{cost_report_token}": "as POST /v2/cost_reports",
    "POST /v2/saved_filters": "a VQL filter that parses",
    "PUT /v2/saved_filters/{saved_filter_token}": "a VQL filter that parses",
    "POST /v2/folders": "an existing parent folder and saved filters, of one workspace",
    "PUT /v2/folders/{folder_token}": "existing parent and saved filters; no folder in itself",
    "GET /v2/costs": "a cost_report_token or a VQL filter that parses, start_date with "
    "end_date in order, no hourly bin",
    "POST /v2/costs/data_exports": "as GET /v2/costs; only the vntg schema",
    "POST /v2/virtual_tag_configs": "a key no other tag has; VQL filters that parse; each value "
    "exactly one of name, percentages (at most 100 in all), business metric (existing), "
    "cost metric",
    "PUT /v2/virtual_tag_configs/{token}": "as POST /v2/virtual_tag_configs",
    "PUT /v2/virtual_tag_configs/{token}/async": "as POST /v2/virtual_tag_configs",
    "POST /v2/virtual_tag_configs/preview": "as POST /v2/virtual_tag_configs (a key, or the "
    "token of the config it changes)",
    "POST /v2/virtual_tag_configs/{virtual_tag_config_token}/values": "a VQL filter that parses; "
    "exactly one of name, percentages, business metric (existing), cost metric",
    "PUT /v2/business_metrics/{business_metric_token}/values.csv": "a UTF-8 CSV file whose "
    "header names date and amount, rows that parse",
    "DELETE /v2/business_metrics/{business_metric_token}/values": "end_date not before start_date",
    "POST /v2/budgets": "periods in order (end_at not before start_at), not overlapping, each at "
    "most 1129 days long; an existing cost report or segment report and child budgets of the "
    "workspace",
    "PUT /v2/budgets/{budget_token}": "as POST /v2/budgets",
    "POST /v2/budget_alerts": "recipient channels that exist",
    "PUT /v2/budget_alerts/{budget_alert_token}": "recipient channels that exist",
    "POST /api/v1/alert-channels": "a target the kind takes (an email address for email, an "
    "http(s) URL for webhook/slack), a name no other channel of the organization has",
    "PATCH /api/v1/alert-channels/{id}": "as POST /api/v1/alert-channels, for the stored kind",
    "POST /api/v1/alerts": "an existing segment (segment_cost, unit_cost) or metric (unit_cost, "
    "metric_usage); a threshold unless the condition is anomaly",
    "PATCH /api/v1/alerts/{token}": "as POST /api/v1/alerts, with the stored subject and condition",
    "PATCH /v2/virtual_tag_configs/{virtual_tag_config_token}/values/"
    "{virtual_tag_config_value_token}": "as POST .../values",
}
# Batch endpoints that check each item on its own: a batch with invalid items is answered 200,
# the invalid ones listed in the body (``rejected``), so invalid data is not refused as a whole.
PER_ITEM_VALIDATION = {
    "POST /api/v1/events/ingest": "invalid events come back in `rejected`",
}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _coerced_number(case) -> bool:
    """DRF's CharField reads a JSON number as its text (``0`` -> ``"0"``): a body that differs
    from the document only by numbers in string fields is read, not refused."""
    data = case.meta.phase.data if case.meta is not None else None
    if data is None:
        return False
    # Path parameters are replaced by the caller's own ids: their mutations were undone.
    mutations = [m for m in getattr(data, "mutations", ()) if m.parameter_location.value != "path"]
    if mutations:  # fuzzing phase: each change turned a top-level string field into a number
        return all(
            m.parameter_location.value == "body"
            and set(m.keywords) & {"type", "anyOf", "oneOf"}  # "not a string (or null)"
            and _number_for_string(case, _mutated_field(m))  # what was sent: a number
            for m in mutations
        )
    # coverage phase: "<field>: Incorrect type", the field of the body sent as a number
    if data.parameter_location is None or data.parameter_location.value != "body":
        return False
    field, _, problem = (data.description or "").partition(": ")
    return problem == "Incorrect type" and _number_for_string(case, field)


def _mutated_field(mutation):
    """The top-level body field a mutation changed: by value path, else by schema pointer."""
    if mutation.path:
        return mutation.path[0] if len(mutation.path) == 1 else None
    pointer = mutation.schema_pointer or ""
    if pointer.count("/properties/") == 1 and pointer.startswith("/properties/"):
        return pointer.removeprefix("/properties/").split("/")[0]
    return None


def _number_for_string(case, field) -> bool:
    """The body holds a number in ``field``, a string (or null) property of the document."""
    if not isinstance(case.body, dict) or not _is_number(case.body.get(field)):
        return False
    body = case.operation.body
    schema = next(iter(body)).optimized_schema if body else {}
    bundle = schema.get("x-bundled", {})

    def resolve(node):
        if isinstance(node, dict) and "$ref" in node:
            return resolve(bundle.get(node["$ref"].rsplit("/", 1)[-1], {}))
        return node or {}

    prop = resolve(resolve(schema).get("properties", {}).get(field))
    options = [resolve(option) for option in prop.get("anyOf", prop.get("oneOf", [prop]))]
    return any(option.get("type") == "string" for option in options)


@schemathesis.check
def rejects_invalid_data(ctx, response, case):
    """schemathesis' negative_data_rejection, minus DRF's documented number-to-text reading."""
    if _coerced_number(case):
        return None
    return negative_data_rejection(ctx, response, case)


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_contract(case, world, db):
    own_path_parameters(case, world)
    headers = authenticate(case, credential(case.operation, world))
    excluded = [negative_data_rejection]
    if case.operation.label in PER_ITEM_VALIDATION:
        excluded.append(rejects_invalid_data)
    if case.operation.label in MEANINGFUL_VALUES:
        excluded.append(positive_data_acceptance)
    # Each example is a fresh client: no rate-limit counters (probes of bad credentials count)
    # and the same objects (what one example deletes, the next still has).
    clear_cache()
    with transaction.atomic():
        case.call_and_validate(headers=headers, excluded_checks=excluded)
        transaction.set_rollback(True)
