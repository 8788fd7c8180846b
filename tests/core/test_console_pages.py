"""First-visit defects of the console, checked with Django's test client."""

import datetime

from django.contrib.auth import get_user_model
from django.test import RequestFactory

from core import views as core_views
from tests.factories import IntegrationFactory, cost_rows


def test_server_error_page_renders_without_a_request_context(db):
    response = core_views.server_error(RequestFactory().get("/segments/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert 'href="/segments/"' in html and 'class="skip-link"' in html


def test_not_found_page_has_the_navigation(client, user):
    client.force_login(user)
    response = client.get("/segments/nothing-here/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'aria-label="Main"' in html


def test_favicon_is_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.ico")


def test_redoc_loads_nothing_from_other_sites(client, db):
    html = client.get("/api/redoc/").content.decode()
    assert "fonts.googleapis.com" not in html and "cdn.jsdelivr.net" not in html
    assert '<script src="/api/redoc/redoc.js">' in html
    bundle = client.get("/api/redoc/redoc.js")
    assert bundle["Content-Type"].startswith("text/javascript")
    assert "cdn.redoc.ly" not in bundle.content.decode()


def test_admin_integration_delete_page_counts_cost_rows(client, organization):
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    integration = IntegrationFactory(organization=organization)
    cost_rows(
        integration,
        [{"charge_period_start": datetime.date(2026, month, 1)} for month in (8, 9, 10)],
    )
    response = client.get(f"/admin/costs/integration/{integration.pk}/delete/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "3 billing periods of cost rows" in html
    assert "AmazonEC2 2026-09" not in html  # no line per row
    assert "Costline administration" in html


def test_admin_lists_select_their_foreign_keys_and_search_declared_fields(db):
    """Every admin list page joins the foreign keys it shows (no query per row)."""
    from django.contrib import admin
    from django.db.models import ForeignKey

    missing = []
    for model, model_admin in admin.site._registry.items():
        shown = [name for name in model_admin.list_display if isinstance(name, str)]
        foreign = {
            name
            for name in shown
            if name in {f.name for f in model._meta.get_fields()}
            and isinstance(model._meta.get_field(name), ForeignKey)
        }
        selected = set(model_admin.list_select_related or ())
        if model_admin.list_select_related is True:
            continue
        if foreign - selected:
            missing.append(f"{model.__name__}: {sorted(foreign - selected)}")
    assert not missing, missing


def test_admin_is_branded(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "Costline administration" in html


def test_admin_organization_delete_page_counts_what_goes_along(admin_client, organization):
    integration = IntegrationFactory(organization=organization)
    cost_rows(integration, [{"charge_period_start": datetime.date(2026, 9, day)} for day in (1, 2)])
    response = admin_client.get(f"/admin/organizations/organization/{organization.pk}/delete/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 billing period of cost rows" in html and "1 integration" in html
    assert "AmazonEC2 2026-09" not in html


def test_forbidden_page_says_why_with_the_navigation(client, organization):
    from organizations.models import Role
    from tests.factories import MembershipFactory, UserFactory

    viewer = UserFactory(username="vera")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client.force_login(viewer)
    response = client.get("/segments/new/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your role in this organization is read-only." in html
    assert 'aria-label="Main"' in html


def test_admin_lists_of_the_big_tables_count_at_most_a_cap(admin_client, organization, monkeypatch):
    """Cost rows and usage events run to hundreds of millions: their admin lists count through a
    LIMITed subquery (never a full COUNT), page up to the cap, and search only what an index
    answers."""
    from django.contrib import admin
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.admin import CappedCountPaginator
    from costs.models import CostRow
    from metrics.models import UsageEvent

    from ..factories import IntegrationFactory, LegacyCostRowFactory

    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    integration = IntegrationFactory(organization=organization, provider="aws")
    for _ in range(8):
        LegacyCostRowFactory(integration=integration)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(
            f"/admin/costs/costrow/?integration__id__exact={integration.pk}"
        )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 5  # capped, not 8
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts
    assert not admin.site._registry[CostRow].search_fields
    assert all(field.startswith("=") for field in admin.site._registry[UsageEvent].search_fields)
    assert admin_client.get("/admin/metrics/usageevent/?q=evt_1").status_code == 200
