"""What the contract tests share: our OpenAPI document loaded by schemathesis, the caller's own
objects (one of each kind a path can name) and how each surface authenticates."""

import datetime
import functools

import schemathesis
from django.test import Client

from config.wsgi import application
from costs import services as cost_services
from costs.models import DimensionField, DimensionValue, ImportJob
from filter_segments.services import filter_segment_create
from metrics import services as metric_services
from reports import services as report_services
from reports.models import DataExport
from segments.filter_tree import parse_vql
from segments.services import segment_create

from ..factories import api_token
from . import more_objects


@functools.cache
def load_schema():
    """Our OpenAPI document as schemathesis reads it, served by the app itself (in-process).

    Generating it needs no database, so the test modules load it at collection time; once for
    all of them. Called by those modules only, so a broken document fails them, not the others.
    """
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


CSRF_SECRET = "fuzzcsrfsecret0123456789abcdefgh"  # 32 characters, as Django's CSRF secrets are


def session_credential(user) -> dict:
    """A signed-in browser: its session cookie, and the CSRF token in cookie and header."""
    client = Client()
    client.force_login(user)
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_SECRET},
        "headers": {"X-CSRFToken": CSRF_SECRET},
    }


def bearer_credential(secret: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {secret}"}}


def authenticate(case, credential: dict) -> dict:
    """Put ``credential`` on ``case``; answers the headers to send with it.

    Cookies go on the case (werkzeug's test client drops a ``Cookie`` header when its own jar is
    empty), marked as the credential the test was given: schemathesis then probes that the
    operation refuses the same request without it, instead of treating it as generated data.
    """
    if credential.get("cookies"):
        case.cookies = {**(case.cookies or {}), **credential["cookies"]}
        case._has_explicit_auth = True
    return dict(credential.get("headers", {}))


def make_world(organization, user) -> dict:
    """The caller's objects, one of each kind a path can name, and its credentials."""
    _, secret = api_token(organization, scopes="read,write", name="contract")
    _, read_secret = api_token(organization, scopes="read", name="contract (read)")
    integration = cost_services.integration_create(organization, "aws", "AWS payer")
    job = ImportJob.objects.create(
        organization=organization, integration=integration, filename="focus.csv"
    )
    family = metric_services.product_family_create(organization, name="Compute")
    product = metric_services.product_create(organization, name="API", product_family_id=family.pk)
    customer = metric_services.customer_create(organization, name="Initech", external_id="initech")
    metric = metric_services.metric_create(
        organization,
        name="API calls",
        code="api_calls",
        aggregation_type="COUNT",
        product_family_id=family.pk,
    )
    segment = segment_create(
        organization, name="Production", filter_tree=parse_vql("costs.provider = 'aws'")
    )
    saved_view = filter_segment_create(
        organization,
        user,
        module="integrations",
        name="AWS only",
        filters=[{"type": "provider", "id": "aws", "label": "Provider: AWS"}],
    )
    workspace = organization.default_workspace
    saved_filter = report_services.saved_filter_create(
        organization,
        workspace=workspace,
        title="AWS",
        filter_tree=parse_vql("costs.provider = 'aws'"),
    )
    folder = report_services.folder_create(organization, workspace=workspace, title="Platform")
    cost_report = report_services.cost_report_create(
        organization, workspace=workspace, title="Monthly", folder=folder
    )
    data_export = DataExport.objects.create(organization=organization, workspace=workspace)
    more = more_objects.objects(
        organization, label="Acme", workspace=workspace, cost_report=cost_report, segment=segment
    )
    DimensionValue.objects.create(
        organization=organization,
        provider="aws",
        integration=integration,
        billing_period_start=datetime.date(2026, 8, 1),
        field=DimensionField.TAG,
        key="env",
        value="prod",
    )
    return {
        "bearer": bearer_credential(secret),
        "read_bearer": bearer_credential(read_secret),
        "session": session_credential(user),
        "params": {
            "org_id": str(organization.pk),
            "account_id": str(organization.pk),
            "workspace_token": organization.default_workspace.token,
            "segment_token": segment.token,
            "integration_id": str(integration.pk),
            "job_id": str(job.pk),
            "saved_filter_token": saved_filter.token,
            "folder_token": folder.token,
            "cost_report_token": cost_report.token,
            "data_export_token": data_export.token,
            "file_name": "costs.csv",
            "key": "env",
            **{name: more[kind] for name, kind in more_objects.PATH_KINDS.items()},
        },
        "token": {
            "/v2/virtual_tag_configs/": more["virtual_tag_token"],
            "/api/v1/alerts/": more["watch_token"],
            "/api/v1/alert-deliveries/": more["delivery_token"],
        },
        "segment_id": {"/beta/": str(segment.pk), "/api/": saved_view.pk},
        "id": {
            "/api/v1/product-families/": str(family.pk),
            "/api/v1/products/": str(product.pk),
            "/api/v1/customers/": str(customer.pk),
            "/api/v1/metrics/": str(metric.pk),
            "/api/v1/integrations/": str(integration.pk),
            "/api/v1/alert-channels/": more["channel"],
        },
    }


def own_path_parameters(case, world) -> None:
    """Point a case at the caller's objects."""
    if case.path_parameters is None:
        case.path_parameters = {}
    for parameter in case.operation.path_parameters:
        name = parameter.name
        if name in world["params"]:
            case.path_parameters[name] = world["params"][name]
        elif name in ("segment_id", "id", "token"):
            for prefix, value in world[name].items():
                if case.path.startswith(prefix):
                    case.path_parameters[name] = value


def sessions_only(operation) -> bool:
    """Filter segments take a signed-in session only (seed 002): tokens get a 403."""
    return "/filter-segments/" in operation.path


def credential(operation, world) -> dict:
    """How the caller authenticates on ``operation``'s surface."""
    return world["session"] if sessions_only(operation) else world["bearer"]
