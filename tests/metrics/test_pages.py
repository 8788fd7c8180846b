"""Pages of the metrics app: lists with filters, the metric form and page, catalogue, admin."""

import json
import re

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from metrics import services
from metrics.models import BillableMetric, Customer, Product, ProductFamily
from organizations.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.metrics.conftest import event, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_pages_require_sign_in(client, db):
    for url in ["/metrics/", "/events/", "/customers/", "/products/", "/metrics/new/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_pages_render_and_filter(signed_in, organization, customer, make_metric, family):
    make_metric(code="calls", name="Calls")
    make_metric(code="bytes", name="Bytes")
    ingest(organization, [event(1, customer, "2026-03-01", code="calls")])
    page = signed_in.get("/metrics/?search=byt")
    assert page.status_code == 200
    assert [m.code for m in page.context["object_list"]] == ["bytes"]
    assert page.context["saved_views_module"] == "metrics"
    assert page.context["active_filters"][0]["type"] == "search"
    assert signed_in.get(f"/metrics/?product_family_id={family.pk}").context["paginator"].count == 2
    events = signed_in.get("/events/?customer_id=initech&code=calls")
    assert [e.event_id for e in events.context["object_list"]] == ["evt-calls-1"]
    assert "evt-calls-1" in events.content.decode()
    customers = signed_in.get("/customers/?search=init")
    assert [c.external_id for c in customers.context["object_list"]] == ["initech"]
    assert signed_in.get("/products/").status_code == 200


def test_create_a_metric_in_the_page(signed_in, family, product):
    response = signed_in.post(
        "/metrics/new/",
        {
            "name": "Storage",
            "code": "gb",
            "product_family_id": family.pk,
            "product_id": product.pk,
            "aggregation_type": "MAX",
            "aggregation_key": "gb",
            "segmentation_matrix": '{"key": "region", "values": ["eu", "us"]}',
            "unit_conversion_factor": "1024",
            "unit_conversion_rounding": "UP",
            "usage_group_key": "bucket",
        },
    )
    metric = BillableMetric.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/metrics/{metric.pk}/"
    assert (metric.aggregation_type, metric.unit_conversion_factor, metric.product_id) == (
        "MAX",
        1024,
        product.pk,
    )
    assert metric.segmentation_matrix == {"key": "region", "values": ["eu", "us"]}


def test_the_metric_form_shows_the_services_errors(signed_in, family, make_metric):
    make_metric(code="taken")
    response = signed_in.post(
        "/metrics/new/",
        {
            "name": "X",
            "code": "taken",
            "product_family_id": family.pk,
            "aggregation_type": "SUM",
            "segmentation_matrix": '{"key": 1}',
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"code", "aggregation_key", "segmentation_matrix"} <= set(errors)
    assert BillableMetric.objects.count() == 1
    bad_json = signed_in.post("/metrics/new/", {"segmentation_matrix": "{"})
    assert "segmentation_matrix" in bad_json.context["form"].errors


def test_metric_page_charts_usage_by_dimension(signed_in, organization, customer, make_metric):
    metric = make_metric(
        code="req",
        aggregation_type="SUM",
        aggregation_key="n",
        segmentation_matrix={"key": "region", "values": ["eu", "us"]},
    )
    ingest(
        organization,
        [
            event(1, customer, "2026-03-02", code="req", region="eu", n=4),
            event(2, customer, "2026-03-02", code="req", region="xx", n=1),
            event(3, customer, "2026-03-03", code="req", region="us", n=2),
        ],
    )
    page = signed_in.get(f"/metrics/{metric.pk}/?window=day&start=2026-03-01&end=2026-03-03")
    assert page.status_code == 200
    chart = page.context["chart"]
    assert chart["labels"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert {d["label"]: d["data"] for d in chart["datasets"]} == {
        "eu": [0, 4, 0],
        "us": [0, 0, 2],
        "other": [0, 1, 0],
    }
    html = page.content.decode()
    assert 'id="usage-chart"' in html
    embedded = re.search(r'id="usage-chart-data"[^>]*>(.*?)</script>', html).group(1)
    assert json.loads(embedded) == chart
    one = signed_in.get(
        f"/metrics/{metric.pk}/?window=month&start=2026-03-01&end=2026-03-31&customer={customer.pk}"
    )
    assert one.context["totals"] == [("2026-03", 7.0)]
    assert "frozen" in html  # usage exists: the page says the definition is fixed


def test_archive_and_unarchive_from_the_page(signed_in, make_metric):
    metric = make_metric()
    signed_in.post(f"/metrics/{metric.pk}/archive/", {"action": "archive"})
    metric.refresh_from_db()
    assert metric.archived_at is not None
    assert "Unarchive" in signed_in.get(f"/metrics/{metric.pk}/").content.decode()
    signed_in.post(f"/metrics/{metric.pk}/archive/", {"action": "unarchive"})
    metric.refresh_from_db()
    assert metric.archived_at is None


def test_catalogue_and_customers_are_created_from_the_pages(signed_in, organization):
    signed_in.post("/products/families/new/", {"name": "Compute"})
    family = ProductFamily.objects.get(organization=organization)
    signed_in.post("/products/new/", {"name": "VMs", "product_family_id": family.pk})
    assert Product.objects.get().family == family
    signed_in.post("/customers/new/", {"name": "Initech", "external_id": "initech"})
    response = signed_in.post(
        "/customers/new/", {"name": "Again", "external_id": "initech"}, follow=True
    )
    assert Customer.objects.count() == 1
    assert "already exists" in response.content.decode()


def test_viewers_cannot_write_from_the_pages(client, organization, make_metric, family):
    viewer = UserFactory(username="vic")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client.force_login(viewer)
    metric = make_metric()
    assert client.get(f"/metrics/{metric.pk}/").status_code == 200
    assert client.post(f"/metrics/{metric.pk}/archive/", {}).status_code == 403
    assert client.post("/customers/new/", {"name": "A", "external_id": "a"}).status_code == 403
    assert client.post("/metrics/new/", {"name": "A"}).status_code == 403


def test_another_organizations_metric_page_is_404(signed_in, other_organization):
    family = services.product_family_create(other_organization, name="Theirs")
    metric = services.metric_create(
        other_organization,
        name="X",
        code="x",
        aggregation_type="COUNT",
        product_family_id=family.pk,
    )
    assert signed_in.get(f"/metrics/{metric.pk}/").status_code == 404


def test_admin_lists_every_metrics_model(client, organization, customer, make_metric):
    staff = UserFactory(username="root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    metric = make_metric()
    ingest(organization, [event(1, customer, "2026-03-01")])
    services.usage_materialize_pending()
    for model in [
        "productfamily",
        "product",
        "customer",
        "billablemetric",
        "usageevent",
        "usagedaily",
        "usagedailydistinct",
        "usagedirtyday",
    ]:
        assert client.get(f"/admin/metrics/{model}/").status_code == 200, model
    # The admin escapes "_" in ids: an id spelled raw could read back as another one.
    change = reverse("admin:metrics_billablemetric_change", args=[quote(metric.pk)])
    assert client.get(change).status_code == 200
    client.post(
        "/admin/metrics/billablemetric/", {"action": "archive", "_selected_action": [metric.pk]}
    )
    metric.refresh_from_db()
    assert metric.archived_at is not None
