"""Request-level junk answers a 4xx in the surface's envelope on every route, never a 500.

The routes are not hand-listed: ``routes()`` walks ``get_resolver()`` (API surfaces, pages, the
admin) and fills each captured parameter with a real id of the caller's organization. The query
parameters come from the OpenAPI document of the same path, plus a few names the pages read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, transaction
from django.test import Client, TestCase
from django.urls import URLResolver, get_resolver
from django.utils.regex_helper import normalize
from drf_spectacular.generators import SchemaGenerator

from costs import services as cost_services
from filter_segments.services import filter_segment_create
from metrics import services as metric_services
from organizations.models import Role
from reports import services as report_services
from segments.filter_tree import parse_vql
from segments.services import segment_create

from ..factories import MembershipFactory, UserFactory
from . import more_objects

NUL = "\x00"
PAGE_PARAMS = ("q", "search", "start", "end", "page", "sort", "provider", "customer", "metric")


@dataclass(frozen=True)
class Route:
    template: str  # "api/v1/metrics/%(pk)s/usage"
    params: tuple[str, ...]
    name: str | None

    @property
    def schema_path(self) -> str:
        names = {name: "{" + ("id" if name == "pk" else name) + "}" for name in self.params}
        return "/" + (self.template % names)


def _strip(regex: str) -> str:
    regex = regex.removeprefix("^")
    for end in ("\\Z", "$"):
        regex = regex.removesuffix(end)
    return regex


def _walk(patterns, prefix=""):
    for pattern in patterns:
        regex = prefix + _strip(pattern.pattern.regex.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, regex)
        else:
            yield regex, pattern


def routes() -> list[Route]:
    """Every URL pattern of the project, as a format string and its parameter names."""
    found = {}
    for regex, pattern in _walk(get_resolver().url_patterns):
        template, params = normalize(regex)[0]
        found.setdefault(template, Route(template, tuple(params), pattern.name))
    return list(found.values())


def documented_query_params() -> dict[str, set[str]]:
    schema = SchemaGenerator().get_schema(public=True)
    params: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    params.setdefault(path, set()).add(parameter["name"])
    return params


def date_params() -> dict[str, set[str]]:
    """Documented GET query parameters that take a date or a date-time, by schema path."""
    schema = SchemaGenerator().get_schema(public=True)
    found: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] == "query" and parameter.get("schema", {}).get("format") in (
                "date",
                "date-time",
            ):
                found.setdefault(path, set()).add(parameter["name"])
    return found


@pytest.fixture
def world(organization, user, write_token, settings):
    """One of everything a route can name, owned by the caller's organization."""
    # django-axes records force_login with the address "unknown", which PostgreSQL's inet refuses.
    settings.AXES_ENABLED = False
    user.is_staff = user.is_superuser = True
    user.save()
    integration = cost_services.integration_create(organization, "aws", "AWS")
    job = cost_services.import_job_create(integration, paths=["/nonexistent/focus.csv"])
    with TestCase.captureOnCommitCallbacks(execute=False):
        segment = segment_create(
            organization, name="Compute", filter_tree=parse_vql("costs.provider = 'aws'")
        )
    family = metric_services.product_family_create(organization, name="Compute")
    product = metric_services.product_create(organization, name="API", product_family_id=family.pk)
    customer = metric_services.customer_create(organization, name="Initech", external_id="ini")
    metric = metric_services.metric_create(
        organization,
        name="API calls",
        code="api_calls",
        aggregation_type="COUNT",
        product_family_id=family.pk,
    )
    saved_view = filter_segment_create(
        organization, user, module="subscriptions", name="Trials", filters=[]
    )
    workspace = organization.default_workspace
    cost_report = report_services.cost_report_create(
        organization, workspace=workspace, title="Monthly"
    )
    more = more_objects.objects(
        organization, label="Acme", workspace=workspace, cost_report=cost_report, segment=segment
    )
    token, secret = write_token
    by_prefix = {
        "api/v1/alert-channels": more["channel"],
        "alerts/settings/channels/": more["channel"],
        "api/v1/integrations": integration.pk,
        "integrations/": integration.pk,
        "imports/": job.pk,
        "segments/": segment.pk,
        "settings/tokens/": token.pk,
        "api/v1/product-families": family.pk,
        "api/v1/products": product.pk,
        "api/v1/customers": customer.pk,
        "api/v1/metrics": metric.pk,
        "metrics/": metric.pk,
    }

    def values(route: Route) -> dict[str, str]:
        out = {}
        for name in route.params:
            if name in ("org_id", "account_id"):
                value = organization.pk
            elif name == "workspace_token":
                value = organization.default_workspace.token
            elif name == "segment_token":
                value = segment.token
            elif name == "segment_id":
                value = saved_view.pk if "filter-segments" in route.template else segment.pk
            elif name == "integration_id":
                value = integration.pk
            elif name == "job_id":
                value = job.pk
            elif name == "content_type_id":
                value = ContentType.objects.get_for_model(segment).pk
            elif name == "object_id" and route.template.startswith("admin/r/"):
                value = segment.pk
            elif name == "object_id":
                app_label, model_name = route.template.split("/")[1:3]
                instance = apps.get_model(app_label, model_name)._default_manager.first()
                value = instance.pk if instance is not None else 1
            elif name in more_objects.PATH_KINDS:
                value = more[more_objects.PATH_KINDS[name]]
            elif name == "cost_report_token":
                value = cost_report.token
            elif name == "token" and more_objects.token_kind(route.template):
                value = more[more_objects.token_kind(route.template)]
            elif name == "pk":
                found = [v for p, v in by_prefix.items() if route.template.startswith(p)]
                assert found, f"{route.template}: name the object its pk means in by_prefix"
                value = found[0]
            else:
                value = "x"
            out[name] = str(value)
        return out

    MembershipFactory(user=UserFactory(username="bob"), organization=organization, role=Role.ADMIN)
    return Caller(secret, user), values


def isolated_get(client, url: str):
    """A GET on its own savepoint: a request that breaks the transaction (PostgreSQL refuses
    every statement after an error) must not turn the following requests into errors too."""
    savepoint = transaction.savepoint()
    response = client.get(url)
    try:
        transaction.savepoint_commit(savepoint)
    except DatabaseError:
        transaction.savepoint_rollback(savepoint)
    return response


class Caller:
    """Signed in as an admin of the organization, with its read/write API token too; the
    surfaces that take only a signed-in person (filter segments) are called without the token."""

    def __init__(self, secret, user):
        self.with_token = Client(
            raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {secret}"
        )
        self.session_only = Client(raise_request_exception=False)
        for client in (self.with_token, self.session_only):
            client.force_login(user)

    def get(self, url: str):
        client = self.session_only if "/filter-segments" in url else self.with_token
        return isolated_get(client, url)


def envelope_problem(path: str, response) -> str | None:
    """What is wrong with the shape of an error answer to ``path``, or None."""
    if response.status_code not in (400, 404):
        return f"status {response.status_code}"
    content_type = response.get("Content-Type", "")
    if path.startswith(("/v2/", "/beta/", "/api/")):
        if "json" not in content_type:
            return f"{content_type} instead of JSON"
        body = response.json()
        if path.startswith("/v2/"):
            ok = isinstance(body.get("errors"), list) and body["errors"]
        elif path.startswith("/beta/"):
            ok = {"message", "detail", "code"} <= set(body)
        else:
            ok = isinstance(body, dict) and body
        return None if ok else f"envelope {body!r}"
    if "html" not in content_type:
        return f"{content_type} instead of an HTML page"
    return None


def _query(route: Route, documented: dict[str, set[str]], value: str) -> str:
    names = set(documented.get(route.schema_path, ())) | set(PAGE_PARAMS)
    return urlencode(dict.fromkeys(sorted(names), value))


def _walk_with(client, requests) -> tuple[int, list[str]]:
    failures = []
    for path, url in requests:
        response = client.get(url)
        problem = envelope_problem(path, response)
        if problem:
            failures.append(f"GET {url} -> {problem}")
    return len(requests), failures


def test_nul_in_a_query_parameter_of_any_route_is_a_400(world):
    client, values = world
    documented = documented_query_params()
    requests = []
    for route in routes():
        path = "/" + route.template % {k: quote(v) for k, v in values(route).items()}
        requests.append((path, f"{path}?{_query(route, documented, 'a' + NUL + 'b')}"))
    tried, failures = _walk_with(client, requests)
    assert tried > 150
    assert not failures, "\n".join(failures)
    # Each one is refused up front with a message naming the parameter.
    response = client.get("/v2/segments?q=a%00b")
    assert response.status_code == 400
    assert response.json() == {"errors": ["q: must not contain a NUL character."]}


def test_nul_in_a_path_segment_of_any_route_is_a_4xx(world):
    client, values = world
    requests = []
    for route in routes():
        filled = values(route)
        if route.params:
            for name in route.params:
                with_nul = {k: quote(v) for k, v in filled.items()}
                with_nul[name] = quote(filled[name] + NUL)
                path = "/" + route.template % with_nul
                requests.append((path.replace("%00", NUL), path))
        else:
            # No parameter: put it into the last word of the static path.
            head, _, tail = route.template.rstrip("/").rpartition("/")
            tail = (tail or "x")[:1] + "%00" + (tail or "x")[1:]
            path = "/" + (f"{head}/{tail}" if head else tail)
            requests.append((path, path))
    tried, failures = _walk_with(client, requests)
    assert tried > 150
    assert not failures, "\n".join(failures)


def test_the_envelope_of_a_nul_follows_the_surface(world):
    client, _ = world
    archera = client.get("/beta/v1/org/x%00/segments")
    assert archera.status_code == 400
    assert archera.json()["code"] == "bad_request"
    assert "NUL" in archera.json()["message"]
    drf = client.get("/api/v1/metrics?search=%00")
    assert drf.status_code == 400
    assert drf.json() == {"search": ["must not contain a NUL character."]}
    page = client.get("/segments/?q=%00")
    assert page.status_code == 400
    assert "html" in page["Content-Type"]


# --------------------------------------------------------------------------- huge page numbers


HUGE = "10000000000000000000"


def test_huge_page_number_is_a_400_on_every_paged_route(world):
    client, values = world
    documented = documented_query_params()
    paged = [r for r in routes() if {"page"} <= documented.get(r.schema_path, set())]
    assert len(paged) >= 3
    for route in paged:
        path = "/" + route.template % values(route)
        for name in ("page", "page_size", "limit"):
            if name not in documented[route.schema_path]:
                continue
            # Required parameters of some listings, so that the page number is what is refused.
            response = client.get(f"{path}?module=subscriptions&provider=aws&{name}={HUGE}")
            assert envelope_problem(path, response) is None, (path, name, response.content)
            assert response.status_code == 400
            assert name in response.content.decode()


def test_page_past_the_end_is_still_empty(world):
    client, _ = world
    response = client.get("/v2/segments?page=1000000")
    assert response.status_code == 200
    assert response.json()["segments"] == []


# --------------------------------------------------------------------------- time-zone offsets

BAD_OFFSETS = ("+99:00", "+16:00", "-16:00", "+15:60", "+2400")


def _dated_routes(values):
    found = date_params()
    for route in routes():
        names = found.get(route.schema_path)
        if names:
            yield "/" + route.template % values(route), sorted(names)


@pytest.mark.parametrize("offset", BAD_OFFSETS)
def test_out_of_range_offset_in_a_date_parameter_is_a_400(world, offset):
    client, values = world
    dated = list(_dated_routes(values))
    assert len(dated) >= 5
    for path, names in dated:
        for name in names:
            value = f"2026-10-01T00:00:00{offset}"
            response = client.get(f"{path}?{urlencode({name: value})}")
            assert envelope_problem(path, response) is None, (path, name, response.content)
            assert name in response.content.decode(), (path, name, response.content)


def test_in_range_offset_is_accepted_where_date_times_are(world):
    client, _ = world
    response = client.get(
        "/api/v1/events?"
        + urlencode(
            {"timestamp_after": "2026-10-01T00:00:00+15:59", "timestamp_before": "2026-10-02T00:00"}
        )
    )
    assert response.status_code == 200, response.content


def test_out_of_range_offset_on_the_pages_is_a_400_page(world):
    client, _ = world
    response = client.get("/events/?" + urlencode({"start": "2026-10-01T00:00:00+20:00"}))
    assert response.status_code == 400
    assert "html" in response["Content-Type"]


def test_offset_in_an_ingested_event_is_rejected_per_event(organization):
    from metrics.services import events_ingest

    metric_services.customer_create(organization, name="Initech", external_id="ini")
    base = {"code": "api_calls", "customer_id": "ini", "properties": {}}
    result = events_ingest(
        organization,
        [
            {**base, "id": "far", "timestamp": "2026-10-01T00:00:00+20:00"},
            {**base, "id": "near", "timestamp": "2026-10-01T00:00:00+14:00"},
        ],
    )
    assert [r["id"] for r in result.rejected] == ["far"]
    assert "offset" in str(result.rejected[0])
    assert result.accepted and dt  # the other one went in


# --------------------------------------------------------------------------- figures


def junk_requests(values) -> dict[str, list[tuple[str, str]]]:
    """Every route with each kind of junk: ``{kind: [(path, url), ...]}``."""
    documented = documented_query_params()
    dated = date_params()
    kinds: dict[str, list[tuple[str, str]]] = {
        "nul-query": [],
        "nul-path": [],
        "huge-page": [],
        "tz-offset": [],
    }
    for route in routes():
        filled = values(route)
        path = "/" + route.template % {k: quote(v) for k, v in filled.items()}
        kinds["nul-query"].append((path, f"{path}?{_query(route, documented, 'a' + NUL)}"))
        for name in route.params:
            bad = {k: quote(v) for k, v in filled.items()}
            bad[name] = quote(filled[name] + NUL)
            kinds["nul-path"].append((path, "/" + route.template % bad))
        for name in ("page", "page_size", "limit"):
            url = f"{path}?module=subscriptions&provider=aws&{name}={HUGE}"
            kinds["huge-page"].append((path, url))
        for name in sorted(dated.get(route.schema_path, {"start"})):
            for offset in BAD_OFFSETS[:2]:
                value = f"2026-10-01T00:00:00{offset}"
                kinds["tz-offset"].append((path, f"{path}?{urlencode({name: value})}"))
    return kinds


def test_no_route_answers_a_server_error_to_any_junk(world, capsys):
    """The figures of docs/reliability.md ("Bad input"): run with ``-s`` to print them."""
    client, values = world
    lines, server_errors = [], []
    for kind, requests in junk_requests(values).items():
        statuses = [(url, client.get(url).status_code) for _, url in requests]
        errors = [f"{kind}: GET {url} -> {status}" for url, status in statuses if status >= 500]
        server_errors += errors
        lines.append(
            f"{kind:10} {len(statuses):5} requests, {len(errors):4} answered 5xx, "
            f"{sum(400 <= status < 500 for _, status in statuses):5} answered 4xx"
        )
    with capsys.disabled():
        print(f"\n{len(routes())} routes\n" + "\n".join(lines))
    assert not server_errors, "\n".join(server_errors[:50])


def test_out_of_range_offset_in_a_page_form_is_a_form_error(organization, user, settings):
    from organizations.models import ApiToken

    settings.AXES_ENABLED = False
    client = Client()
    client.force_login(user)
    response = client.post(
        "/settings/",
        {"name": "late", "scopes": ["read"], "expires_at": "2099-01-01T00:00:00+20:00"},
    )
    assert response.status_code == 200
    assert "out of range (at most ±15:59)" in response.content.decode()
    assert not ApiToken.objects.filter(name="late").exists()
