"""The filter-segments API of seed 002: limits, paging, sorting, who may, and clean failures."""

import re
import uuid

import pytest
from rest_framework.test import APIClient

from filter_segments.models import FilterSegment
from organizations.models import Role

from ..factories import MembershipFactory, UserFactory

PREDICATE = {"type": "status", "id": "trialing", "label": "Trialing"}


@pytest.fixture
def url(organization):
    return f"/api/{organization.pk}/filter-segments/"


@pytest.fixture
def client(user):
    client = APIClient()
    client.force_login(user)
    return client


def create(client, url, **body):
    payload = {"module": "subscriptions", "name": "Active trials", "filters": [PREDICATE]}
    payload.update(body)
    return client.post(url, payload, format="json")


def test_create_shape_and_id_format(client, url, user, settings):
    response = create(client, url)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "module", "name", "filters", "created_by_user_id", "created_at",
                         "updated_at"}
    assert re.fullmatch(rf"seg_{settings.COSTLINE_ENVIRONMENT}_[a-z0-9]{{16}}", body["id"])
    assert body["filters"] == [PREDICATE]
    assert body["created_by_user_id"] == f"usr_{settings.COSTLINE_ENVIRONMENT}_{user.pk}"
    assert body["created_at"].endswith("Z")


def test_create_without_trailing_slash_is_not_redirected(client, organization):
    response = create(client, f"/api/{organization.pk}/filter-segments")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "x" * 81}, "name"),
        ({"name": ""}, "name"),
        ({"module": "m" * 65}, "module"),
        ({"module": ""}, "module"),
        ({"filters": [PREDICATE] * 51}, "filters"),
        ({"filters": [{**PREDICATE, "type": "t" * 65}]}, "filters"),
        ({"filters": [{**PREDICATE, "id": "i" * 256}]}, "filters"),
        ({"filters": [{**PREDICATE, "label": "l" * 256}]}, "filters"),
        ({"filters": [{"type": "status", "id": "", "label": "x"}]}, "filters"),
        ({"filters": [{"type": "status", "label": "x"}]}, "filters"),
        ({"filters": "status=trialing"}, "filters"),
        ({"filters": [{**PREDICATE, "extra": 1}]}, "filters"),
    ],
)
def test_limits_one_past_the_boundary_are_400(client, url, body, field):
    response = create(client, url, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not FilterSegment.objects.exists()


def test_limits_at_the_boundary_are_accepted(client, url):
    predicate = {"type": "t" * 64, "id": "i" * 255, "label": "l" * 255}
    response = create(client, url, name="n" * 80, module="m" * 64, filters=[predicate] * 50)
    assert response.status_code == 201


def test_list_requires_module_and_filters_by_it(client, url):
    create(client, url, module="subscriptions", name="A")
    create(client, url, module="invoices", name="B")
    assert client.get(url).status_code == 400
    assert "module" in client.get(url).json()
    body = client.get(f"{url}?module=invoices").json()
    assert body["count"] == 1
    assert [s["name"] for s in body["results"]] == ["B"]


def test_search_sort_and_pages(client, url):
    for name in ["beta", "Alpha", "gamma", "alphabet"]:
        create(client, url, name=name)
    names = [s["name"] for s in client.get(
        f"{url}?module=subscriptions&search=ALPHA&sort_by=name&sort_order=asc"
    ).json()["results"]]
    assert names == ["Alpha", "alphabet"]
    first = client.get(f"{url}?module=subscriptions&sort_by=name&sort_order=desc&page_size=3")
    body = first.json()
    assert body["count"] == 4 and body["total_pages"] == 2
    assert [s["name"] for s in body["results"]] == ["gamma", "beta", "alphabet"]
    second = client.get(f"{url}?module=subscriptions&sort_by=name&sort_order=desc&page_size=3"
                        "&page=2").json()
    assert [s["name"] for s in second["results"]] == ["Alpha"]
    created = [s["name"] for s in client.get(
        f"{url}?module=subscriptions&sort_by=created_at&sort_order=asc").json()["results"]]
    assert created == ["beta", "Alpha", "gamma", "alphabet"]


@pytest.mark.parametrize("query", ["sort_by=size", "sort_order=up", "page=0", "page_size=0",
                                   "page_size=501", "page=x"])
def test_bad_list_parameters_are_400(client, url, query):
    response = client.get(f"{url}?module=subscriptions&{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in str(response.json())


def test_get_patch_delete(client, url):
    segment_id = create(client, url).json()["id"]
    detail = f"{url}{segment_id}"
    assert client.get(detail).json()["name"] == "Active trials"
    response = client.patch(detail, {"name": "Active trials — EUR"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Active trials — EUR"
    assert response.json()["filters"] == [PREDICATE]
    assert client.patch(f"{detail}/", {"module": "invoices"}, format="json").status_code == 200
    assert client.delete(detail).status_code == 204
    assert client.get(detail).status_code == 404


def test_patch_without_fields_is_400_and_changes_nothing(client, url):
    segment_id = create(client, url).json()["id"]
    before = FilterSegment.objects.get(pk=segment_id).updated_at
    for body in ({}, {"unknown": 1}):
        response = client.patch(f"{url}{segment_id}", body, format="json")
        assert response.status_code == 400
    response = client.patch(f"{url}{segment_id}", {"name": "ok", "filters": [PREDICATE] * 51},
                            format="json")
    assert response.status_code == 400
    segment = FilterSegment.objects.get(pk=segment_id)
    assert (segment.name, segment.updated_at) == ("Active trials", before)


def test_api_tokens_are_refused_with_403(token_client, url, organization):
    assert token_client.get(f"{url}?module=x").status_code == 403
    assert create(token_client, url).status_code == 403
    other = f"/api/{uuid.uuid4()}/filter-segments/"
    assert token_client.get(f"{other}?module=x").status_code == 403


def test_anonymous_is_401(api_client, url, db):
    assert api_client.get(f"{url}?module=x").status_code in (401, 403)


def test_other_account_and_non_member_are_404(client, other_organization, organization):
    other_user = UserFactory(username="olga")
    MembershipFactory(user=other_user, organization=other_organization)
    theirs = APIClient()
    theirs.force_login(other_user)
    segment_id = create(theirs, f"/api/{other_organization.pk}/filter-segments/").json()["id"]
    assert client.get(f"/api/{other_organization.pk}/filter-segments/?module=x").status_code == 404
    assert client.get(f"/api/{organization.pk}/filter-segments/{segment_id}").status_code == 404
    assert client.get("/api/not-a-uuid/filter-segments/?module=x").status_code == 404


def test_members_use_all_but_only_creator_or_admin_change(client, url, organization):
    segment_id = create(client, url).json()["id"]
    viewer = UserFactory(username="val")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    other = APIClient()
    other.force_login(viewer)
    assert other.get(f"{url}{segment_id}").status_code == 200
    assert create(other, url, name="Mine").status_code == 201
    assert other.patch(f"{url}{segment_id}", {"name": "x"}, format="json").status_code == 403
    assert other.delete(f"{url}{segment_id}").status_code == 403
    assert FilterSegment.objects.get(pk=segment_id).name == "Active trials"


def test_writes_need_csrf(user, url):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = create(client, url)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_schema_documents_every_status(client, db):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    listing = paths["/api/{account_id}/filter-segments/"]
    detail = paths["/api/{account_id}/filter-segments/{segment_id}"]
    assert {"200", "400", "401", "403", "404"} <= set(listing["get"]["responses"])
    assert {"201", "400", "401", "403", "404"} <= set(listing["post"]["responses"])
    assert {"200", "400", "403", "404"} <= set(detail["patch"]["responses"])
    assert {"204", "403", "404"} <= set(detail["delete"]["responses"])
