"""Tenant isolation on every API operation, generated from the OpenAPI document and the URLconf.

Nothing here names a route. Every operation of the document is called with every kind of
credential that must not reach (or must not change) some data, its path, required query and body
references filled with the ids of objects that credential must not reach:

- another organization's token or member session: the victim's ids are a 404 (a token on a
  session-only operation a 403); lists show nothing of the victim; the victim's rows are unchanged;
- a token restricted to one workspace: objects of the organization's other workspace are a 404;
- a read-only token and a viewer member: writes guarded by ``OrganizationAccess`` are a 403 and
  change nothing;
- no credentials, a revoked token, an expired token: a 401 on every operation that is not public.

Every response is checked for the names, ids and tokens of data the credential must not see, and
every call runs in a rolled-back transaction whose protected rows are compared with a snapshot
taken before. A new route or method is covered as soon as it is in the document; a route in the
URLconf that the document does not show (other than a marked alias) fails the test.
"""

from __future__ import annotations

import datetime
import itertools
import json
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from rest_framework.test import APIClient

from costs import services as cost_services
from costs.models import DimensionField, DimensionValue, ImportJob
from filter_segments.services import filter_segment_create
from metrics import services as metric_services
from organizations import services as org_services
from organizations.models import ApiToken, Organization, Role, Workspace
from organizations.permissions import OrganizationAccess
from reports import services as report_services
from reports.models import DataExport
from segments.filter_tree import parse_vql
from segments.models import Segment
from segments.services import segment_create

from ..factories import MembershipFactory, OrganizationFactory, UserFactory, WorkspaceFactory
from . import more_objects

WRITES = {"post", "put", "patch", "delete"}
API_PREFIXES = ("api/", "v2/", "beta/")
NOT_OPERATIONS = ("api/schema/", "api/docs/", "api/redoc/")
# Generated at import: the document needs no database. Kept with its view classes.
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    (path, method, operation)
    for path, methods in SCHEMA["paths"].items()
    for method, operation in methods.items()
    if method in {"get", "post", "put", "patch", "delete"}
]
MIN_OPERATIONS = 50
# The document spells ``{pk}`` as ``{id}`` (drf-spectacular's SCHEMA_COERCE_PATH_PK).
VIEWS = {
    (path.replace("{pk}", "{id}"), method.lower()): getattr(callback, "cls", None)
    or callback.view_class
    for path, _, method, callback in EndpointEnumerator().get_api_endpoints()
}


# --- The two organizations and their objects ------------------------------------------------


@dataclass
class Tenant:
    """One organization's objects, by the kind of reference a request can carry."""

    organization: Organization
    refs: dict = field(default_factory=dict)  # kind -> value sent on the wire
    secrets: set = field(default_factory=set)  # names and ids that must not leak


def populate(label: str, admin) -> Tenant:
    organization = OrganizationFactory(name=f"{label} organization")
    MembershipFactory(user=admin, organization=organization, role=Role.ADMIN)
    second = WorkspaceFactory(organization=organization, name=f"{label} second workspace")
    aws = parse_vql("costs.provider = 'aws'")
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment = segment_create(
            organization, name=f"{label} fleet", provider="aws", filter_tree=aws
        )
        second_segment = segment_create(
            organization,
            name=f"{label} second fleet",
            provider="aws",
            workspace=second,
            filter_tree=aws,
        )
    integration = cost_services.integration_create(organization, "aws", f"{label} payer")
    job = ImportJob.objects.create(
        organization=organization, integration=integration, filename=f"{label}-focus.csv"
    )
    family = metric_services.product_family_create(organization, name=f"{label} family")
    product = metric_services.product_create(
        organization, name=f"{label} product", product_family_id=family.pk
    )
    customer = metric_services.customer_create(
        organization, name=f"{label} customer", external_id=f"{label}-customer"
    )
    metric = metric_services.metric_create(
        organization,
        name=f"{label} calls",
        code="api_calls",
        aggregation_type="COUNT",
        product_family_id=family.pk,
    )
    saved_view = filter_segment_create(
        organization,
        admin,
        module="integrations",
        name=f"{label} saved view",
        filters=[{"type": "provider", "id": "aws", "label": "Provider: AWS"}],
    )
    default = organization.default_workspace
    saved_filter = report_services.saved_filter_create(
        organization, workspace=default, title=f"{label} saved filter", filter_tree=aws
    )
    folder = report_services.folder_create(
        organization, workspace=default, title=f"{label} folder", saved_filters=[saved_filter]
    )
    cost_report = report_services.cost_report_create(
        organization, workspace=default, title=f"{label} report", folder=folder
    )
    data_export = DataExport.objects.create(organization=organization, workspace=default)
    DimensionValue.objects.create(
        organization=organization,
        provider="aws",
        integration=integration,
        billing_period_start=datetime.date(2026, 8, 1),
        field=DimensionField.TAG,
        key=f"{label.lower()}-team",
        value=f"{label.lower()}-platform",
    )
    more = more_objects.objects(
        organization, label=label, workspace=default, cost_report=cost_report, segment=segment
    )
    tenant = Tenant(organization)
    tenant.refs = {
        **more,
        "organization": str(organization.pk),
        "segment": str(segment.pk),
        "segment_token": segment.token,
        "workspace": default.token,
        "integration": str(integration.pk),
        "job": str(job.pk),
        "saved_view": saved_view.pk,
        "family": family.pk,
        "product": product.pk,
        "customer": customer.pk,
        "metric": metric.pk,
        "second_workspace": second.token,
        "second_segment": str(second_segment.pk),
        "second_segment_token": second_segment.token,
        "saved_filter_token": saved_filter.token,
        "folder_token": folder.token,
        "cost_report_token": cost_report.token,
        "data_export_token": data_export.token,
        "tag_key": f"{label.lower()}-team",
        "export_file": "costs.csv",
    }
    for obj in (segment, integration, family, product, customer, metric, saved_view):
        tenant.secrets.add(obj.name)
    tenant.secrets |= {saved_filter.title, folder.title, cost_report.title}
    tenant.secrets |= more_objects.secrets_of(more, label)
    tenant.secrets |= {
        organization.name,
        default.token,
        second.token,
        second.name,
        second_segment.name,
        customer.external_id,
        job.filename,
        *(v for k, v in tenant.refs.items() if k != "channel"),
    }
    return tenant


# Wire references by parameter or body field name; ``id`` and unknown names are resolved below.
REFERENCE_NAMES = {
    "org_id": "organization",
    "account_id": "organization",
    "segment_token": "segment_token",
    "parent_segment_token": "segment_token",
    "segment": "segment_token",
    "workspace_token": "workspace",
    "integration_id": "integration",
    "job_id": "job",
    "metric": "metric",
    "product_family_id": "family",
    "product_id": "product",
    "customer_id": "customer",
    "saved_filter_token": "saved_filter_token",
    "folder_token": "folder_token",
    "parent_folder_token": "folder_token",
    "cost_report_token": "cost_report_token",
    "data_export_token": "data_export_token",
    "key": "tag_key",
    "file_name": "export_file",
    **more_objects.PATH_KINDS,
}
# Kinds whose objects belong to a workspace: what a workspace-restricted token must not reach.
WORKSPACE_KINDS = {
    "segment",
    "segment_token",
    "workspace",
    "saved_filter_token",
    "folder_token",
    "cost_report_token",
}


def path_kind(path: str, method: str, name: str) -> str:
    if name in REFERENCE_NAMES:
        return REFERENCE_NAMES[name]
    if name == "segment_id":
        return "saved_view" if "/filter-segments/" in path else "segment"
    if name in ("token", "id") and more_objects.token_kind(path):
        return more_objects.token_kind(path)
    if name == "id":
        # A generic view: the kind is the model of its queryset.
        model = VIEWS[(path, method)].queryset.model
        return MODEL_KINDS[model._meta.label]
    raise AssertionError(f"{path}: no object kind for path parameter '{name}'; add it here")


MODEL_KINDS = {
    "metrics.ProductFamily": "family",
    "metrics.Product": "product",
    "metrics.Customer": "customer",
    "metrics.BillableMetric": "metric",
    "costs.Integration": "integration",
}


# --- Requests built from the document ---------------------------------------------------------


def resolve_ref(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def sample(name: str, schema: dict, refs: dict, marker: str):
    """A plausible value for a body field; references point at the objects of ``refs``."""
    schema = resolve_ref(schema)
    if "oneOf" in schema:
        return sample(name, schema["oneOf"][0], refs, marker)
    if name in REFERENCE_NAMES and REFERENCE_NAMES[name] in refs:
        return refs[REFERENCE_NAMES[name]][0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if name in ("name", "title"):
        return marker
    if name in ("vql", "filter"):
        return "costs.provider = 'aws'"
    if name == "module":
        return "integrations"
    if name == "code":
        return "api_calls"
    if kind == "object" or "properties" in schema:
        return {
            key: sample(key, value, refs, marker)
            for key, value in schema.get("properties", {}).items()
            if key in schema.get("required", []) or key in REFERENCE_NAMES or key in ("name",)
        }
    if kind == "array":
        return [sample("", schema["items"], refs, marker)] if name == "events" else []
    if kind == "integer" or kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "binary":
        return SimpleUploadedFile("focus.csv", b"BilledCost\n1\n", content_type="text/csv")
    if schema.get("format") == "date-time":
        return timezone.now().isoformat()
    if schema.get("format") == "date":
        return datetime.date.today().isoformat()
    if name == "provider":
        return "aws"
    return "isolation"


@dataclass
class Call:
    path: str
    method: str
    url: str
    data: object
    content_type: str | None
    foreign_required: bool  # a path parameter or required reference names a foreign object


def build_call(path, method, operation, refs: dict, marker: str) -> Call:
    url = path
    foreign_required = False
    for parameter in [p for p in operation.get("parameters", []) if p["in"] == "path"]:
        kind = path_kind(path, method, parameter["name"])
        value, is_foreign = refs[kind]
        foreign_required |= is_foreign
        url = url.replace("{" + parameter["name"] + "}", value)
    query = {}
    for parameter in [p for p in operation.get("parameters", []) if p["in"] == "query"]:
        name = parameter["name"]
        if name in REFERENCE_NAMES and REFERENCE_NAMES[name] in refs:
            value, is_foreign = refs[REFERENCE_NAMES[name]]
            query[name] = value
            foreign_required |= is_foreign and parameter.get("required", False)
        elif parameter.get("required"):
            query[name] = sample(name, parameter["schema"], {}, marker)
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    data, content_type = None, None
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        content_type = next(iter(content))
        data = sample("", content[content_type]["schema"], refs, marker)
    return Call(path, method, url, data, content_type, foreign_required)


# --- Credentials and what each must (not) see --------------------------------------------------


@dataclass
class Credential:
    name: str
    client: APIClient
    is_token: bool
    refs: dict  # kind -> (value, is_foreign)
    secrets: set  # strings that must never appear in a response
    protected: object  # () -> snapshot of the rows this credential must not change
    expect: str  # "401", "other_org", "restricted", "read_only"


class World:
    def __init__(self):
        self.admin = UserFactory(username="isolation-admin")
        self.victim = populate("Victim", self.admin)
        self.attacker = populate("Attacker", UserFactory(username="attacker-admin"))
        victim = self.victim.organization
        self.viewer = UserFactory(username="isolation-viewer")
        MembershipFactory(user=self.viewer, organization=victim, role=Role.VIEWER)
        self.outsider = UserFactory(username="isolation-outsider")
        MembershipFactory(
            user=self.outsider, organization=self.attacker.organization, role=Role.ADMIN
        )
        self.restricted_workspace = Workspace.objects.get(
            token=self.victim.refs["second_workspace"]
        )

    def token(self, organization, **kwargs) -> str:
        return org_services.api_token_create(
            organization, name=kwargs.pop("name", "isolation"), **kwargs
        )[1]

    def credential(self, name: str) -> Credential:
        victim, attacker = self.victim, self.attacker
        own = {kind: (value, False) for kind, value in victim.refs.items()}
        theirs = {kind: (value, True) for kind, value in victim.refs.items()}
        everything_of_victim = lambda: snapshot(victim.organization)  # noqa: E731
        client = APIClient()
        if name in ("anonymous", "revoked token", "expired token"):
            if name != "anonymous":
                secret = self.token(victim.organization)
                token = ApiToken.objects.latest("created_at")
                when = timezone.now() - datetime.timedelta(seconds=1)
                if name == "revoked token":
                    org_services.api_token_revoke(token)
                else:
                    ApiToken.objects.filter(pk=token.pk).update(expires_at=when)
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
            return Credential(
                name, client, name != "anonymous", own, victim.secrets, everything_of_victim, "401"
            )
        if name in ("other organization's token", "other organization's member"):
            if name.endswith("token"):
                secret = self.token(attacker.organization, scopes="read,write")
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
            else:
                client.force_login(self.outsider)
            return Credential(
                name,
                client,
                name.endswith("token"),
                theirs,
                victim.secrets,
                everything_of_victim,
                "other_org",
            )
        if name == "other workspace's token":
            secret = self.token(
                victim.organization, scopes="read,write", workspaces=[self.restricted_workspace]
            )
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
            refs = dict(own)
            for kind in WORKSPACE_KINDS:
                refs[kind] = (victim.refs[kind], True)
            default = victim.organization.default_workspace
            unreachable = {
                default.token,
                victim.refs["segment"],
                victim.refs["segment_token"],
                Segment.objects.get(pk=victim.refs["segment"]).name,
            } | attacker.secrets
            return Credential(
                name,
                client,
                True,
                refs,
                unreachable,
                lambda: snapshot(victim.organization, workspace=default),
                "restricted",
            )
        if name == "read-only token":
            client.credentials(
                HTTP_AUTHORIZATION=f"Bearer {self.token(victim.organization, scopes='read')}"
            )
        elif name == "viewer member":
            client.force_login(self.viewer)
        else:
            raise AssertionError(name)
        return Credential(
            name,
            client,
            name.endswith("token"),
            own,
            attacker.secrets,
            everything_of_victim,
            "read_only",
        )


# Calls whose path or required query names an object the credential must not reach.
FOREIGN_LOOKUP_FLOORS = {"other_org": 30, "restricted": 9}

CREDENTIALS = [
    "anonymous",
    "revoked token",
    "expired token",
    "other organization's token",
    "other organization's member",
    "other workspace's token",
    "read-only token",
    "viewer member",
]


def tenant_models():
    """Every model that belongs to an organization, directly or through one foreign key."""
    found = []
    for model in apps.get_models():
        names = {f.name: f for f in model._meta.concrete_fields}
        if "organization" in names:
            found.append((model, "organization"))
            continue
        for candidate in model._meta.concrete_fields:
            if isinstance(candidate, models.ForeignKey):
                related = {f.name for f in candidate.related_model._meta.concrete_fields}
                if "organization" in related and candidate.related_model is not Organization:
                    found.append((model, f"{candidate.name}__organization"))
                    break
    return found


VOLATILE = {"last_used_at"}


def cross_tenant_references() -> list[str]:
    """Rows whose foreign key points at an object of another organization than their own."""
    found = []
    for model, lookup in tenant_models():
        if lookup != "organization":
            continue
        for key in model._meta.concrete_fields:
            if not isinstance(key, models.ForeignKey) or key.name == "organization":
                continue
            if "organization" not in {f.name for f in key.related_model._meta.concrete_fields}:
                continue
            mixed = model.objects.filter(**{f"{key.name}__isnull": False}).exclude(
                **{f"{key.name}__organization": models.F("organization")}
            )
            if mixed.exists():
                found.append(f"{model._meta.label}.{key.name}")
    return found


def snapshot(organization, workspace=None) -> dict:
    """The organization's rows (only a workspace's, when given), field by field."""
    rows = {}
    for model, lookup in tenant_models():
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in VOLATILE]
        queryset = model.objects.filter(**{lookup: organization})
        if workspace is not None:
            names = {f.name for f in model._meta.concrete_fields}
            if "workspace" in names:
                queryset = queryset.filter(workspace=workspace)
            elif "segment" in names:
                queryset = queryset.filter(segment__workspace=workspace)
            else:
                continue
        rows[model._meta.label] = sorted(map(repr, queryset.values_list(*fields)))
    rows["organizations.Organization"] = [
        repr(list(Organization.objects.filter(pk=organization.pk).values()))
    ]
    return rows


# --- The expectations -------------------------------------------------------------------------


def expected(credential: Credential, call: Call, operation: dict, write_guarded: bool):
    """The statuses allowed, or None for "any below 500 that is not a refusal of the caller"."""
    security = operation.get("security", [])
    public = {} in security
    session_only = not any("BearerToken" in scheme for scheme in security)
    write = call.method in WRITES
    if credential.expect == "401":
        return None if public else {401}
    if public:
        return None
    if credential.is_token and session_only:
        return {403}
    if credential.expect in ("other_org", "restricted"):
        # A foreign reference in a body may be refused or ignored; that it never lands is
        # checked by the snapshot and by cross_tenant_references().
        return {404} if call.foreign_required else None
    if credential.expect == "read_only" and write and write_guarded:
        return {403}
    return None


def call_once(credential: Credential, call: Call, address: str):
    kwargs = {"REMOTE_ADDR": address}
    method = getattr(credential.client, call.method)
    if call.data is None:
        return method(call.url, **kwargs)
    if call.content_type == "multipart/form-data":
        return method(call.url, call.data, format="multipart", **kwargs)
    return method(call.url, call.data, format="json", **kwargs)


ADDRESSES = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 255), repeat=3))


@pytest.mark.parametrize("credential_name", CREDENTIALS)
def test_every_operation_keeps_tenants_apart(credential_name, db):
    world = World()
    credential = world.credential(credential_name)
    before = credential.protected()
    marker = f"Hijacked by {credential_name}"
    failures, exercised, refused_lookups = [], set(), 0
    for path, method, operation in OPERATIONS:
        call = build_call(path, method, operation, credential.refs, marker)
        write_guarded = any(
            issubclass(permission, OrganizationAccess)
            for permission in VIEWS[(path, method)].permission_classes
        )
        allowed = expected(credential, call, operation, write_guarded)
        # A fresh address per call: failed credentials would otherwise be throttled (429).
        with transaction.atomic():
            response = call_once(credential, call, next(ADDRESSES))
            after = credential.protected()
            mixed = cross_tenant_references()
            transaction.set_rollback(True)
        exercised.add((path, method))
        refused_lookups += call.foreign_required
        where = f"{method.upper()} {call.url}"
        status = response.status_code
        if allowed is not None and status not in allowed:
            failures.append(
                f"{where}: {status}, expected {sorted(allowed)}: {response.content[:200]}"
            )
        if allowed is None and (status >= 500 or status in (401, 429)):
            failures.append(f"{where}: {status}: {response.content[:200]}")
        if (
            allowed is None
            and credential.expect == "read_only"
            and status == 403
            and method == "get"
        ):
            failures.append(f"{where}: 403 for a credential allowed to read")
        sent = call.url + json.dumps(call.data, default=str)
        body = response.content.decode(errors="replace")
        leaked = sorted(s for s in credential.secrets if s and s in body and s not in sent)
        if leaked:
            failures.append(f"{where}: response shows {leaked}")
        changed = sorted(label for label in before if before[label] != after.get(label))
        if changed and (allowed is not None and not (200 <= status < 300)):
            failures.append(f"{where}: refused ({status}) but changed {changed}")
        if changed and credential.expect in ("401", "other_org", "restricted"):
            failures.append(f"{where}: changed protected rows {changed}")
        if mixed:
            failures.append(f"{where}: rows now reference another organization's: {mixed}")
    assert not failures, "\n".join(failures)
    assert len(OPERATIONS) >= MIN_OPERATIONS
    assert exercised == {(path, method) for path, method, _ in OPERATIONS}
    # The generator keeps naming foreign objects (else the 404 checks would test nothing).
    assert refused_lookups >= FOREIGN_LOOKUP_FLOORS.get(credential.expect, 0)


# --- The document covers the URLconf -----------------------------------------------------------


def api_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            yield from api_patterns(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern, entry.callback


def test_every_api_route_of_the_urlconf_is_in_the_document():
    documented = {VIEWS[(path, method)] for path, method, _ in OPERATIONS}
    missing, routes = [], 0
    for pattern, callback in api_patterns():
        if not pattern.startswith(API_PREFIXES) or pattern.startswith(NOT_OPERATIONS):
            continue
        routes += 1
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        # An alias (another spelling of a documented path) runs the same view class.
        if cls not in documented:
            missing.append(pattern)
    assert missing == []
    assert routes >= len(SCHEMA["paths"])
