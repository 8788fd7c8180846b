"""The /api/v1 surface: catalogue, billable metrics (seed 003), events and usage."""

import re

import pytest

from metrics import services
from metrics.models import BillableMetric
from tests.metrics.conftest import at, event

pytestmark = pytest.mark.django_db

ID = re.compile(r"^(?P<prefix>[a-z]+_)[0-9A-Za-z]{22}$")
SEED_FIELDS = {
    "aggregation_type",
    "code",
    "created_at",
    "id",
    "name",
    "product_family_id",
    "aggregation_key",
    "archived_at",
    "description",
    "product_id",
    "segmentation_matrix",
    "unit_conversion",
    "usage_group_key",
}


def _body(family, **overrides):
    body = {
        "aggregation_type": "COUNT",
        "code": "api_calls",
        "name": "API calls",
        "product_family_id": family.pk,
    }
    body.update(overrides)
    return body


# --- catalogue ---------------------------------------------------------------------------


def test_product_family_list_create_get_update(token_client):
    created = token_client.post(
        "/api/v1/product-families", {"name": "Compute", "description": "VMs"}, format="json"
    )
    assert created.status_code == 201, created.json()
    family = created.json()
    assert ID.match(family["id"]).group("prefix") == "pf_"
    assert family["name"] == "Compute"
    listed = token_client.get("/api/v1/product-families").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == family["id"]
    assert token_client.get(f"/api/v1/product-families/{family['id']}").json() == family
    patched = token_client.patch(
        f"/api/v1/product-families/{family['id']}", {"name": "Compute 2"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Compute 2"
    assert token_client.post("/api/v1/product-families", {}, format="json").status_code == 400


def test_products_belong_to_a_family_of_the_organization(token_client, family, other_organization):
    foreign = services.product_family_create(other_organization, name="Theirs")
    created = token_client.post(
        "/api/v1/products", {"name": "API", "product_family_id": family.pk}, format="json"
    )
    assert created.status_code == 201
    product = created.json()
    assert ID.match(product["id"]).group("prefix") == "prd_"
    assert product["product_family_id"] == family.pk
    refused = token_client.post(
        "/api/v1/products", {"name": "API", "product_family_id": foreign.pk}, format="json"
    )
    assert refused.status_code == 400 and "product_family_id" in refused.json()
    assert token_client.get(f"/api/v1/products/{product['id']}").json() == product
    patched = token_client.patch(
        f"/api/v1/products/{product['id']}", {"description": "Calls"}, format="json"
    )
    assert patched.json()["description"] == "Calls"
    listed = token_client.get(f"/api/v1/products?product_family_id={family.pk}").json()
    assert [p["id"] for p in listed["results"]] == [product["id"]]


def test_customers_have_a_unique_external_id(token_client):
    created = token_client.post(
        "/api/v1/customers", {"name": "Initech", "external_id": "initech"}, format="json"
    )
    assert created.status_code == 201
    customer = created.json()
    assert ID.match(customer["id"]).group("prefix") == "cus_"
    again = token_client.post(
        "/api/v1/customers", {"name": "Other", "external_id": "initech"}, format="json"
    )
    assert again.status_code == 409 and "external_id" in again.json()
    token_client.post("/api/v1/customers", {"name": "Hooli", "external_id": "hooli"}, format="json")
    assert token_client.get("/api/v1/customers?search=hoo").json()["count"] == 1
    assert token_client.get("/api/v1/customers?external_id=initech").json()["count"] == 1
    clash = token_client.patch(
        f"/api/v1/customers/{customer['id']}", {"external_id": "hooli"}, format="json"
    )
    assert clash.status_code == 409
    renamed = token_client.patch(
        f"/api/v1/customers/{customer['id']}", {"name": "Initech Inc"}, format="json"
    )
    assert renamed.json()["name"] == "Initech Inc"
    bad_email = token_client.post(
        "/api/v1/customers", {"name": "A", "external_id": "a", "email": "nope"}, format="json"
    )
    assert bad_email.status_code == 400 and "email" in bad_email.json()


# --- billable metrics --------------------------------------------------------------------


def test_create_metric_answers_exactly_the_seed_response(token_client, family, product):
    body = {
        "aggregation_type": "SUM",
        "code": "tokens.in",
        "name": "Input tokens",
        "product_family_id": family.pk,
        "aggregation_key": "tokens",
        "description": "LLM input tokens",
        "product_id": product.pk,
        "segmentation_matrix": {"key": "model", "values": ["small", "large"]},
        "unit_conversion": {"factor": 1000, "rounding": "UP"},
        "usage_group_key": "project",
    }
    response = token_client.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 201, response.json()
    metric = response.json()
    assert set(metric) == SEED_FIELDS
    assert ID.match(metric["id"]).group("prefix") == "bm_"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", metric["created_at"])
    assert metric["archived_at"] is None
    for name, value in body.items():
        assert metric[name] == value, name
    assert token_client.get(f"/api/v1/metrics/{metric['id']}").json() == metric


def test_optional_fields_come_back_null(token_client, family):
    metric = token_client.post("/api/v1/metrics", _body(family), format="json").json()
    assert {
        k: metric[k]
        for k in (
            "aggregation_key",
            "description",
            "product_id",
            "segmentation_matrix",
            "unit_conversion",
            "usage_group_key",
        )
    } == dict.fromkeys(
        (
            "aggregation_key",
            "description",
            "product_id",
            "segmentation_matrix",
            "unit_conversion",
            "usage_group_key",
        )
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": None}, "code"),
        ({"code": ""}, "code"),
        ({"code": "x" * 65}, "code"),
        ({"code": "has space"}, "code"),
        ({"code": "é"}, "code"),
        ({"name": ""}, "name"),
        ({"aggregation_type": "MEDIAN"}, "aggregation_type"),
        ({"aggregation_type": "SUM"}, "aggregation_key"),
        ({"aggregation_type": "MIN"}, "aggregation_key"),
        ({"aggregation_type": "MAX"}, "aggregation_key"),
        ({"aggregation_type": "MEAN"}, "aggregation_key"),
        ({"aggregation_type": "LATEST"}, "aggregation_key"),
        ({"aggregation_type": "COUNT_DISTINCT", "aggregation_key": ""}, "aggregation_key"),
        ({"product_family_id": "pf_doesnotexist0000000000"}, "product_family_id"),
        ({"product_id": "prd_doesnotexist000000000"}, "product_id"),
        ({"unit_conversion": {"factor": 0}}, "unit_conversion"),
        ({"unit_conversion": {"factor": -2, "rounding": "UP"}}, "unit_conversion"),
        ({"unit_conversion": {"factor": "abc"}}, "unit_conversion"),
        ({"unit_conversion": {"factor": 2, "rounding": "SIDEWAYS"}}, "unit_conversion"),
        ({"segmentation_matrix": {"key": "region"}}, "segmentation_matrix"),
        (
            {"segmentation_matrix": {"dimension1": {"key": "a", "values": ["x"]}}},
            "segmentation_matrix",
        ),
        ({"segmentation_matrix": "region"}, "segmentation_matrix"),
    ],
)
def test_invalid_metrics_get_a_400_naming_the_field(token_client, family, overrides, field):
    response = token_client.post("/api/v1/metrics", _body(family, **overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not BillableMetric.objects.exists()


def test_code_boundaries_are_accepted(token_client, family):
    for code in ("a", "A.b-c_9", "x" * 64):
        assert (
            token_client.post(
                "/api/v1/metrics", _body(family, code=code), format="json"
            ).status_code
            == 201
        )


def test_each_rounding_mode_and_the_three_matrix_forms_are_accepted(token_client, family):
    matrices = [
        {"key": "region", "values": ["eu"]},
        {
            "dimension1": {"key": "region", "values": ["eu"]},
            "dimension2": {"key": "tier", "values": ["pro"]},
        },
        {
            "dimension_key": "cloud",
            "linked_dimension_key": "region",
            "values": {"aws": ["us-east-1"]},
        },
    ]
    for index, rounding in enumerate(
        ["NONE", "UP", "DOWN", "NEAREST", "NEAREST_HALF", "NEAREST_TENTH"]
    ):
        response = token_client.post(
            "/api/v1/metrics",
            _body(
                family,
                code=f"m{index}",
                unit_conversion={"factor": "0.5", "rounding": rounding},
                segmentation_matrix=matrices[index % 3],
            ),
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["unit_conversion"] == {"factor": 0.5, "rounding": rounding}
        assert response.json()["segmentation_matrix"] == matrices[index % 3]


def test_product_must_belong_to_the_metric_family(token_client, organization, family, product):
    elsewhere = services.product_family_create(organization, name="Storage")
    response = token_client.post(
        "/api/v1/metrics", _body(elsewhere, product_id=product.pk), format="json"
    )
    assert response.status_code == 400 and "product_id" in response.json()


def test_family_of_another_organization_is_refused(token_client, other_organization):
    foreign = services.product_family_create(other_organization, name="Theirs")
    response = token_client.post("/api/v1/metrics", _body(foreign), format="json")
    assert response.status_code == 400 and "product_family_id" in response.json()


def test_code_is_unique_among_active_metrics_only(token_client, family):
    first = token_client.post("/api/v1/metrics", _body(family), format="json").json()
    clash = token_client.post("/api/v1/metrics", _body(family), format="json")
    assert clash.status_code == 400 and "code" in clash.json()
    archived = token_client.post(f"/api/v1/metrics/{first['id']}/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"]
    second = token_client.post("/api/v1/metrics", _body(family), format="json")
    assert second.status_code == 201
    # The first one cannot come back while the code is taken.
    refused = token_client.post(f"/api/v1/metrics/{first['id']}/unarchive")
    assert refused.status_code == 409 and "code" in refused.json()
    token_client.post(f"/api/v1/metrics/{second.json()['id']}/archive")
    back = token_client.post(f"/api/v1/metrics/{first['id']}/unarchive")
    assert back.status_code == 200 and back.json()["archived_at"] is None


def test_metric_list_filters_and_paginates(
    token_client, organization, family, product, django_assert_max_num_queries
):
    storage = services.product_family_create(organization, name="Storage")
    for index in range(3):
        token_client.post(
            "/api/v1/metrics", _body(family, code=f"c{index}", product_id=product.pk), format="json"
        )
    in_storage = token_client.post(
        "/api/v1/metrics", _body(storage, code="gb"), format="json"
    ).json()
    token_client.post(f"/api/v1/metrics/{in_storage['id']}/archive")

    def codes(query):
        return sorted(
            m["code"] for m in token_client.get(f"/api/v1/metrics?{query}").json()["results"]
        )

    assert codes(f"product_family_id={storage.pk}") == ["gb"]
    assert codes(f"product_id={product.pk}") == ["c0", "c1", "c2"]
    assert codes("archived=true") == ["gb"]
    assert codes("archived=false") == ["c0", "c1", "c2"]
    page = token_client.get("/api/v1/metrics?page_size=2&page=2").json()
    assert (page["count"], page["page"], page["total_pages"], len(page["results"])) == (4, 2, 2, 2)
    with django_assert_max_num_queries(8):
        token_client.get("/api/v1/metrics")


def test_patch_changes_name_and_description_any_time(organization, token_client, family, customer):
    metric = token_client.post("/api/v1/metrics", _body(family), format="json").json()
    services.events_ingest(organization, [event(1, customer, "2026-03-01")])
    response = token_client.patch(
        f"/api/v1/metrics/{metric['id']}",
        {"name": "Calls", "description": "All calls"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Calls", "All calls")


def test_patch_changes_the_definition_only_while_no_usage_exists(
    organization, token_client, family, customer
):
    metric = token_client.post("/api/v1/metrics", _body(family), format="json").json()
    url = f"/api/v1/metrics/{metric['id']}"
    changed = token_client.patch(
        url,
        {
            "aggregation_type": "SUM",
            "aggregation_key": "n",
            "unit_conversion": {"factor": 10, "rounding": "DOWN"},
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["aggregation_type"] == "SUM"
    invalid = token_client.patch(url, {"aggregation_key": None}, format="json")
    assert invalid.status_code == 400 and "aggregation_key" in invalid.json()
    services.events_ingest(organization, [event(1, customer, "2026-03-01", n=1)])
    frozen = token_client.patch(url, {"aggregation_type": "MAX"}, format="json")
    assert frozen.status_code == 409 and "aggregation_type" in frozen.json()
    frozen = token_client.patch(url, {"unit_conversion": None}, format="json")
    assert frozen.status_code == 409 and "unit_conversion" in frozen.json()
    # Sending the definition unchanged is not a change.
    same = token_client.patch(url, {"aggregation_type": "SUM", "name": "N"}, format="json")
    assert same.status_code == 200


def test_archive_is_idempotent(token_client, family):
    metric = token_client.post("/api/v1/metrics", _body(family), format="json").json()
    first = token_client.post(f"/api/v1/metrics/{metric['id']}/archive/").json()["archived_at"]
    assert (
        token_client.post(f"/api/v1/metrics/{metric['id']}/archive").json()["archived_at"] == first
    )


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/metrics/{metric}", {"id": "bm_x"}, "id"),
        ("/api/v1/metrics/{metric}", {"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ("/api/v1/metrics/{metric}", {"archived_at": "2020-01-01T00:00:00Z"}, "archived_at"),
        ("/api/v1/metrics/{metric}", {"archived_at": None, "name": "Renamed"}, "archived_at"),
        ("/api/v1/product-families/{family}", {"id": "pf_x", "name": "Renamed"}, "id"),
        ("/api/v1/product-families/{family}", {"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ("/api/v1/products/{product}", {"id": "prd_x"}, "id"),
        ("/api/v1/products/{product}", {"product_family_id": "pf_x"}, "product_family_id"),
        ("/api/v1/customers/{customer}", {"id": "cus_x", "name": "Renamed"}, "id"),
    ],
)
def test_a_patch_of_a_read_only_field_is_a_400_naming_it(
    token_client, make_metric, family, product, customer, url, body, field
):
    ids = {"metric": make_metric().pk, "family": family.pk, "product": product.pk}
    url = url.format(customer=customer.pk, **ids)
    before = token_client.get(url).json()
    response = token_client.patch(url, body, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [field]
    assert token_client.get(url).json() == before


def test_a_create_with_a_read_only_field_is_a_400_naming_it(token_client, family):
    for field in ("id", "created_at", "archived_at"):
        response = token_client.post(
            "/api/v1/metrics", _body(family, **{field: "bm_mine"}), format="json"
        )
        assert response.status_code == 400 and list(response.json()) == [field]
    response = token_client.post("/api/v1/customers", {"id": "cus_x", "name": "X"}, format="json")
    assert response.status_code == 400 and "id" in response.json()
    assert not BillableMetric.objects.exists()


def test_unit_conversion_factor_is_a_json_number_everywhere(token_client, family):
    body = _body(family, unit_conversion={"factor": "0.25", "rounding": "NONE"})
    created = token_client.post("/api/v1/metrics", body, format="json")
    assert created.status_code == 201, created.json()
    metric_id = created.json()["id"]
    # Read the raw JSON text: a Decimal serialized as a string would read "0.250000000000".
    for response in (
        created,
        token_client.get(f"/api/v1/metrics/{metric_id}"),
        token_client.get(f"/api/v1/metrics/{metric_id}/usage"),
    ):
        assert '"unit_conversion":{"factor":0.25,"rounding":"NONE"}' in response.content.decode()
    listed = token_client.get("/api/v1/metrics").content.decode()
    assert '"factor":0.25,' in listed
    whole = token_client.patch(
        f"/api/v1/metrics/{metric_id}", {"unit_conversion": {"factor": 1000}}, format="json"
    )
    assert '"factor":1000,' in whole.content.decode()


# --- permissions and tenancy -------------------------------------------------------------


def test_read_only_tokens_get_403_on_every_write(
    read_client, organization, family, customer, make_metric
):
    metric = make_metric()
    writes = [
        ("post", "/api/v1/product-families", {"name": "X"}),
        ("patch", f"/api/v1/product-families/{family.pk}", {"name": "X"}),
        ("post", "/api/v1/products", {"name": "X", "product_family_id": family.pk}),
        ("post", "/api/v1/customers", {"name": "X", "external_id": "x"}),
        ("patch", f"/api/v1/customers/{customer.pk}", {"name": "X"}),
        ("post", "/api/v1/metrics", _body(family, code="other")),
        ("patch", f"/api/v1/metrics/{metric.pk}", {"name": "X"}),
        ("post", f"/api/v1/metrics/{metric.pk}/archive", None),
        ("post", f"/api/v1/metrics/{metric.pk}/unarchive", None),
        ("post", "/api/v1/events/ingest", {"events": [event(1, customer, "2026-03-01")]}),
    ]
    for method, url, body in writes:
        response = getattr(read_client, method)(url, body, format="json")
        assert response.status_code == 403, (url, response.status_code)
    assert read_client.get(f"/api/v1/metrics/{metric.pk}").status_code == 200
    assert read_client.get(f"/api/v1/metrics/{metric.pk}/usage").status_code == 200
    assert BillableMetric.objects.get().archived_at is None


def test_without_credentials_every_endpoint_is_401(api_client, make_metric):
    metric = make_metric()
    for url in [
        "/api/v1/metrics",
        f"/api/v1/metrics/{metric.pk}",
        "/api/v1/events",
        "/api/v1/customers",
        "/api/v1/products",
        "/api/v1/product-families",
        f"/api/v1/metrics/{metric.pk}/usage",
    ]:
        assert api_client.get(url).status_code == 401, url
    assert (
        api_client.post("/api/v1/events/ingest", {"events": []}, format="json").status_code == 401
    )


def test_another_organizations_objects_are_404(
    other_token_client, organization, family, product, customer, make_metric
):
    metric = make_metric()
    for url in [
        f"/api/v1/metrics/{metric.pk}",
        f"/api/v1/metrics/{metric.pk}/usage",
        f"/api/v1/product-families/{family.pk}",
        f"/api/v1/products/{product.pk}",
        f"/api/v1/customers/{customer.pk}",
    ]:
        assert other_token_client.get(url).status_code == 404, url
    assert (
        other_token_client.patch(
            f"/api/v1/metrics/{metric.pk}", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    assert other_token_client.post(f"/api/v1/metrics/{metric.pk}/archive").status_code == 404
    assert other_token_client.get("/api/v1/metrics").json()["count"] == 0
    assert other_token_client.get("/api/v1/customers").json()["count"] == 0
    # Their customers are unknown to our ingest, and the reverse.
    response = other_token_client.post(
        "/api/v1/events/ingest", {"events": [event(1, customer, "2026-03-01")]}, format="json"
    )
    assert response.json()["rejected"][0]["reason"] == "unknown_customer"


@pytest.mark.parametrize(
    ("method", "url", "message"),
    [
        ("get", "/api/v1/metrics/bm_nope", "Billable metric not found."),
        ("patch", "/api/v1/metrics/bm_nope", "Billable metric not found."),
        ("post", "/api/v1/metrics/bm_nope/archive", "Billable metric not found."),
        ("post", "/api/v1/metrics/bm_nope/unarchive", "Billable metric not found."),
        ("get", "/api/v1/metrics/bm_nope/usage", "Billable metric not found."),
        ("get", "/api/v1/product-families/pf_nope", "Product family not found."),
        ("patch", "/api/v1/product-families/pf_nope", "Product family not found."),
        ("get", "/api/v1/products/prd_nope", "Product not found."),
        ("patch", "/api/v1/products/prd_nope", "Product not found."),
        ("get", "/api/v1/customers/cus_nope", "Customer not found."),
        ("patch", "/api/v1/customers/cus_nope", "Customer not found."),
    ],
)
def test_not_found_speaks_the_api_words(token_client, method, url, message):
    response = getattr(token_client, method)(url, {"name": "x"}, format="json")
    assert (response.status_code, response.json()) == (404, {"detail": message})


def test_not_found_references_in_queries_name_the_parameter(token_client, make_metric):
    metric = make_metric()
    usage = token_client.get(f"/api/v1/metrics/{metric.pk}/usage?customer_id=nobody")
    assert (usage.status_code, usage.json()) == (
        404,
        {"customer_id": ["Customer 'nobody' not found."]},
    )
    unit_costs = token_client.get(f"/api/v1/unit-costs?segment=fltr_sgmt_x&metric={metric.pk}")
    assert (unit_costs.status_code, unit_costs.json()) == (404, {"segment": ["Segment not found."]})


def test_paths_work_with_and_without_a_trailing_slash(token_client, make_metric):
    metric = make_metric()
    for url in [
        "/api/v1/metrics",
        f"/api/v1/metrics/{metric.pk}",
        "/api/v1/events",
        f"/api/v1/metrics/{metric.pk}/usage",
        "/api/v1/customers",
    ]:
        assert token_client.get(url).status_code == 200, url
        assert token_client.get(url + "/").status_code == 200, url + "/"


def test_a_signed_in_person_uses_the_api_with_csrf(session_client, family):
    refused = session_client.post("/api/v1/metrics", _body(family), format="json")
    assert refused.status_code == 403  # no CSRF token
    session_client.get("/metrics/")
    token = session_client.cookies["csrftoken"].value
    created = session_client.post(
        "/api/v1/metrics", _body(family), format="json", HTTP_X_CSRFTOKEN=token
    )
    assert created.status_code == 201


# --- events --------------------------------------------------------------------------------


def test_ingest_answers_accepted_duplicates_and_rejections(token_client, customer):
    batch = [event(1, customer, "2026-03-01"), event(2, "nobody", "2026-03-01")]
    first = token_client.post("/api/v1/events/ingest", {"events": batch}, format="json")
    assert first.status_code == 200
    assert first.json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [
            {
                "index": 1,
                "id": "evt-api_calls-2",
                "reason": "unknown_customer",
                "field": "customer_id",
                "message": "No customer with id or external_id 'nobody'.",
            }
        ],
    }
    again = token_client.post("/api/v1/events/ingest", {"events": batch[:1]}, format="json")
    assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": []}


@pytest.mark.parametrize(
    "body", [{}, {"events": "nope"}, {"events": {"id": 1}}, [], {"events": None}]
)
def test_an_unreadable_batch_is_a_400(token_client, body):
    response = token_client.post("/api/v1/events/ingest", body, format="json")
    assert response.status_code == 400


def test_every_rejection_reason_is_in_the_schema(token_client, customer, make_metric):
    make_metric(code="tokens", aggregation_type="SUM", aggregation_key="n")
    good = event(0, customer, "2026-03-01", code="tokens", n=1)
    bad = [
        "not an event",
        {**good, "id": ""},
        {**good, "code": "no spaces"},
        {**good, "customer_id": "nobody"},
        {**good, "timestamp": "yesterday"},
        {**good, "timestamp": "2999-01-01T00:00:00Z"},
        {**good, "properties": []},
        {**good, "properties": {}},
        {**good, "properties": {"n": "many"}},
        {**good, "properties": {"n": "1e18"}},
    ]
    response = token_client.post(
        "/api/v1/events/ingest",
        {
            "events": [
                {**e, "id": f"e{i}"} if isinstance(e, dict) and e["id"] else e
                for i, e in enumerate(bad)
            ]
        },
        format="json",
    )
    reasons = [r["reason"] for r in response.json()["rejected"]]
    assert len(reasons) == len(bad), response.json()
    schema = token_client.get("/api/schema/?format=json").json()["components"]["schemas"]
    documented = set(schema["ReasonEnum"]["enum"])
    assert set(reasons) <= documented, set(reasons) - documented


def test_more_than_500_events_is_a_400(token_client, customer):
    events = [event(i, customer, "2026-03-01") for i in range(501)]
    response = token_client.post("/api/v1/events/ingest", {"events": events}, format="json")
    assert response.status_code == 400 and "events" in response.json()


def test_event_list_filters_by_customer_code_and_time(
    token_client, organization, customer, other_customer
):
    services.events_ingest(
        organization,
        [
            event(1, customer, "2026-03-01"),
            event(2, customer, "2026-03-02", code="other"),
            event(3, other_customer, "2026-03-03"),
        ],
    )

    def ids(query):
        return [e["id"] for e in token_client.get(f"/api/v1/events?{query}").json()["results"]]

    assert ids("") == ["evt-api_calls-3", "evt-other-2", "evt-api_calls-1"]  # newest first
    assert ids(f"customer_id={customer.pk}") == ["evt-other-2", "evt-api_calls-1"]
    assert ids("customer_id=hooli") == ["evt-api_calls-3"]
    assert ids("code=other") == ["evt-other-2"]
    assert ids("timestamp_after=2026-03-02T00:00:00Z&timestamp_before=2026-03-02T23:59:59Z") == [
        "evt-other-2"
    ]
    [first] = token_client.get("/api/v1/events?code=other").json()["results"]
    assert first["customer_id"] == customer.pk and first["customer_external_id"] == "initech"
    assert first["timestamp"].startswith("2026-03-02T12:00:00")


# --- usage ----------------------------------------------------------------------------------


def test_usage_of_one_customer_by_external_id(token_client, organization, customer, make_metric):
    metric = make_metric(
        code="req",
        aggregation_type="SUM",
        aggregation_key="n",
        segmentation_matrix={"key": "region", "values": ["eu", "us"]},
    )
    raw = [("2026-03-01", "eu", 2), ("2026-03-01", "eu", 3), ("2026-03-02", "us", 4)]
    token_client.post(
        "/api/v1/events/ingest",
        {
            "events": [
                event(i, customer, d, code="req", region=r, n=n) for i, (d, r, n) in enumerate(raw)
            ]
        },
        format="json",
    )
    response = token_client.get(
        f"/api/v1/metrics/{metric.pk}/usage?customer_id=initech&from=2026-03-01&to=2026-03-02"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["metric_id"], body["window"], body["from"], body["to"]) == (
        metric.pk,
        "day",
        "2026-03-01",
        "2026-03-02",
    )
    assert body["count"] == 1
    [usage] = body["results"]
    assert usage["customer_id"] == customer.pk
    expected = {
        (d, r): sum(n for day, region, n in raw if (day, region) == (d, r))
        for d in ("2026-03-01", "2026-03-02")
        for r in ("eu", "us")
    }
    got = {
        (period["start"], line["dimensions"]["region"]): line["value"]
        for period in usage["periods"]
        for line in period["lines"]
    }
    assert got == expected
    assert [p["total"] for p in usage["periods"]] == [5, 4]


def test_usage_of_all_customers_is_paginated(
    token_client, organization, customer, other_customer, make_metric
):
    metric = make_metric(code="req")
    services.customer_create(organization, name="Idle", external_id="idle")
    services.events_ingest(
        organization,
        [
            event(1, customer, "2026-03-01", code="req"),
            event(2, other_customer, "2026-03-01", code="req"),
            event(3, other_customer, "2026-03-09", code="req"),
        ],
    )
    url = f"/api/v1/metrics/{metric.pk}/usage?window=month&from=2026-03-01&to=2026-03-31"
    body = token_client.get(url + "&page_size=1").json()
    assert (body["count"], body["total_pages"]) == (2, 2)  # the idle customer is left out
    assert [r["external_id"] for r in body["results"]] == ["hooli"]
    second = token_client.get(url + "&page_size=1&page=2").json()
    assert [(r["external_id"], r["periods"][0]["total"]) for r in second["results"]] == [
        ("initech", 1)
    ]
    assert body["results"][0]["periods"] == [
        {
            "start": "2026-03-01",
            "end": "2026-03-31",
            "total": 2,
            "lines": [{"dimensions": {}, "other": False, "usage_group": None, "value": 2}],
        }
    ]


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ("window=week", "window", 400),
        ("from=yesterday", "from", 400),
        ("from=2026-03-05&to=2026-03-01", "to", 400),
        ("from=2024-01-01&to=2026-01-01", "to", 400),
        ("customer_id=nobody", "customer_id", 404),
    ],
)
def test_bad_usage_queries(token_client, make_metric, query, field, status):
    metric = make_metric()
    response = token_client.get(f"/api/v1/metrics/{metric.pk}/usage?{query}")
    assert response.status_code == status, response.json()
    assert field in response.json()


def test_usage_accepts_date_times_and_defaults_to_this_month(token_client, make_metric):
    metric = make_metric()
    body = token_client.get(
        f"/api/v1/metrics/{metric.pk}/usage?from=2026-03-01T00:00:00Z&to=2026-03-02T10:00:00Z"
    ).json()
    assert (body["from"], body["to"]) == ("2026-03-01", "2026-03-02")
    default = token_client.get(f"/api/v1/metrics/{metric.pk}/usage").json()
    assert default["from"].endswith("-01") and default["window"] == "day"


def test_the_openapi_schema_documents_the_metrics_api(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    for path in [
        "/api/v1/metrics",
        "/api/v1/metrics/{id}",
        "/api/v1/metrics/{id}/usage",
        "/api/v1/events/ingest",
        "/api/v1/customers",
        "/api/v1/products",
        "/api/v1/product-families",
        "/api/v1/events",
    ]:
        assert any(p.rstrip("/") == path for p in schema["paths"]), path
    create = schema["paths"]["/api/v1/metrics"]["post"]
    assert {"201", "400", "401", "403"} <= set(create["responses"])


def test_timestamps_in_ingest_are_utc_strings(token_client, customer):
    response = token_client.post(
        "/api/v1/events/ingest",
        {"events": [{**event(1, customer, "2026-03-01"), "timestamp": at("2026-03-01")}]},
        format="json",
    )
    assert response.json()["accepted"] == 1


def test_list_endpoints_use_a_fixed_number_of_queries(
    token_client,
    organization,
    customer,
    other_customer,
    family,
    product,
    django_assert_max_num_queries,
):
    services.events_ingest(
        organization,
        [event(i, customer if i % 2 else other_customer, "2026-03-01") for i in range(30)],
    )
    for url in [
        "/api/v1/events",
        "/api/v1/customers",
        "/api/v1/products",
        "/api/v1/product-families",
    ]:
        with django_assert_max_num_queries(8):
            assert token_client.get(url).status_code == 200
