"""The filter-segments API of seed 002: limits, paging, sorting, who may, and clean failures."""

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from filter_segments.models import FilterSegment
from organizations.models import Role

from ..factories import MembershipFactory, UserFactory, api_token

PREDICATE = {"type": "status", "id": "trialing", "label": "Trialing"}


@pytest.fixture
def url(organization):
    return f"/api/{organization.pk}/filter-segments/"


@pytest.fixture
def client(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def segment_url(client, url):
    return f"{url}{create(client, url).json()['id']}"


def create(client, url, **body):
    payload = {"module": "subscriptions", "name": "Active trials", "filters": [PREDICATE]}
    payload.update(body)
    return client.post(url, payload, format="json")


def member_client(organization, username, role):
    person = UserFactory(username=username)
    MembershipFactory(user=person, organization=organization, role=role)
    client = APIClient()
    client.force_login(person)
    return client


def snapshot():
    return sorted(
        FilterSegment.objects.values_list("id", "name", "module", "filters", "updated_at")
    )


# --- create and the shape of a segment -------------------------------------------------------


def test_create_shape_and_id_format(client, url, user, settings):
    response = create(client, url)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "module",
        "name",
        "filters",
        "created_by_user_id",
        "created_at",
        "updated_at",
    }
    assert re.fullmatch(rf"seg_{settings.COSTLINE_ENVIRONMENT}_[a-z0-9]{{16}}", body["id"])
    assert body["filters"] == [PREDICATE]
    assert body["created_by_user_id"] == f"usr_{settings.COSTLINE_ENVIRONMENT}_{user.pk}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    assert body["updated_at"] == body["created_at"]


def test_ids_follow_the_environment_setting(client, url, settings):
    settings.COSTLINE_ENVIRONMENT = "prod"
    assert create(client, url).json()["id"].startswith("seg_prod_")


def test_create_without_trailing_slash_is_not_redirected(client, organization):
    response = create(client, f"/api/{organization.pk}/filter-segments")
    assert response.status_code == 201


def test_empty_filters_are_a_valid_view(client, url):
    assert create(client, url, filters=[]).json()["filters"] == []


def test_repeated_predicate_types_are_kept_in_order(client, url):
    filters = [
        {"type": "provider", "id": "aws", "label": "Provider: AWS"},
        {"type": "provider", "id": "gcp", "label": "Provider: GCP"},
    ]
    assert create(client, url, filters=filters).json()["filters"] == filters


BAD_BODIES = [
    ({"name": "x" * 81}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": 12}, "name"),
    ({"name": None}, "name"),
    ({"module": "m" * 65}, "module"),
    ({"module": ""}, "module"),
    ({"module": True}, "module"),
    ({"filters": [PREDICATE] * 51}, "filters"),
    ({"filters": [{**PREDICATE, "type": "t" * 65}]}, "filters"),
    ({"filters": [{**PREDICATE, "id": "i" * 256}]}, "filters"),
    ({"filters": [{**PREDICATE, "label": "l" * 256}]}, "filters"),
    ({"filters": [{**PREDICATE, "type": ""}]}, "filters"),
    ({"filters": [{**PREDICATE, "id": ""}]}, "filters"),
    ({"filters": [{**PREDICATE, "label": ""}]}, "filters"),
    ({"filters": [{**PREDICATE, "id": 7}]}, "filters"),
    ({"filters": [{"type": "status", "label": "x"}]}, "filters"),
    ({"filters": [{**PREDICATE, "extra": 1}]}, "filters"),
    ({"filters": "status=trialing"}, "filters"),
    ({"filters": {"type": "status"}}, "filters"),
    ({"filters": ["status"]}, "filters"),
    ({"filters": None}, "filters"),
    ({"colour": "red"}, "non_field_errors"),
]


@pytest.mark.parametrize("body,field", BAD_BODIES)
def test_create_rejects_each_limit_one_past_and_each_wrong_type(client, url, body, field):
    response = create(client, url, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not FilterSegment.objects.exists()


@pytest.mark.parametrize("field", ["module", "name", "filters"])
def test_create_requires_each_field(client, url, field):
    payload = {"module": "subscriptions", "name": "Active trials", "filters": [PREDICATE]}
    del payload[field]
    response = client.post(url, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not FilterSegment.objects.exists()


@pytest.mark.parametrize("raw", ["[]", "not json", '"a string"'])
def test_create_rejects_a_body_that_is_not_an_object(client, url, raw):
    response = client.post(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert not FilterSegment.objects.exists()


def test_limits_at_the_boundary_are_accepted(client, url):
    predicate = {"type": "t" * 64, "id": "i" * 255, "label": "l" * 255}
    response = create(client, url, name="n" * 80, module="m" * 64, filters=[predicate] * 50)
    assert response.status_code == 201
    stored = FilterSegment.objects.get()
    assert (len(stored.name), len(stored.module), len(stored.filters)) == (80, 64, 50)
    assert stored.filters[0] == predicate


def test_one_character_name_and_module_are_accepted(client, url):
    assert create(client, url, name="n", module="m").status_code == 201


# --- list: module, search, sorting, paging ---------------------------------------------------


def test_list_requires_module_and_filters_by_it(client, url):
    create(client, url, module="subscriptions", name="A")
    create(client, url, module="invoices", name="B")
    for query in ("", "?module="):
        response = client.get(f"{url}{query}")
        assert response.status_code == 400
        assert "module" in response.json()
    body = client.get(f"{url}?module=invoices").json()
    assert body["count"] == 1
    assert [s["name"] for s in body["results"]] == ["B"]
    assert client.get(f"{url}?module=invoice").json()["count"] == 0


def test_list_answers_without_trailing_slash(client, organization, url):
    create(client, url)
    response = client.get(f"/api/{organization.pk}/filter-segments?module=subscriptions")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_search_is_a_case_insensitive_name_substring(client, url):
    for name in ["beta", "Alpha", "gamma", "alphabet", "the ALPHA team"]:
        create(client, url, name=name)
    body = client.get(f"{url}?module=subscriptions&search=ALPHA&sort_by=name").json()
    assert body["count"] == 3
    assert {s["name"] for s in body["results"]} == {"Alpha", "alphabet", "the ALPHA team"}
    assert client.get(f"{url}?module=subscriptions&search=zeta").json()["count"] == 0
    assert client.get(f"{url}?module=subscriptions&search=").json()["count"] == 5


def _with_times(client, url):
    """Three segments whose created_at and updated_at orders differ from their name order."""
    base = timezone.now() - dt.timedelta(days=10)
    rows = {"b": (0, 5), "c": (1, 3), "A": (2, 4)}  # name: (created day, updated day)
    for name, (created, updated) in rows.items():
        segment_id = create(client, url, name=name).json()["id"]
        FilterSegment.objects.filter(pk=segment_id).update(
            created_at=base + dt.timedelta(days=created),
            updated_at=base + dt.timedelta(days=updated),
        )


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", ["b", "A", "c"]),  # default: updated_at desc
        ("&sort_order=asc", ["c", "A", "b"]),  # sort_by defaults to updated_at
        ("&sort_by=updated_at&sort_order=desc", ["b", "A", "c"]),
        ("&sort_by=created_at", ["A", "c", "b"]),  # sort_order defaults to desc
        ("&sort_by=created_at&sort_order=asc", ["b", "c", "A"]),
        ("&sort_by=name&sort_order=asc", ["A", "b", "c"]),  # names ignore case
        ("&sort_by=name&sort_order=desc", ["c", "b", "A"]),
    ],
)
def test_sorting(client, url, query, expected):
    _with_times(client, url)
    body = client.get(f"{url}?module=subscriptions{query}").json()
    assert [s["name"] for s in body["results"]] == expected


def test_pages_carry_the_total_count(client, url):
    for index in range(5):
        create(client, url, name=f"view {index}")
    query = f"{url}?module=subscriptions&sort_by=name&sort_order=asc&page_size=2"
    pages = [client.get(f"{query}&page={page}").json() for page in (1, 2, 3, 4)]
    for page_number, body in enumerate(pages, start=1):
        assert (body["count"], body["page"], body["page_size"], body["total_pages"]) == (
            5,
            page_number,
            2,
            3,
        )
    assert [[s["name"] for s in body["results"]] for body in pages] == [
        ["view 0", "view 1"],
        ["view 2", "view 3"],
        ["view 4"],
        [],
    ]
    default = client.get(f"{url}?module=subscriptions").json()
    assert (default["page"], default["page_size"], default["total_pages"]) == (1, 50, 1)


def test_page_size_boundaries(client, url):
    create(client, url)
    assert client.get(f"{url}?module=subscriptions&page_size=500").status_code == 200
    assert client.get(f"{url}?module=subscriptions&page_size=1").status_code == 200
    assert client.get(f"{url}?module=subscriptions&page=1").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "sort_by=size",
        "sort_by=NAME",
        "sort_order=up",
        "sort_order=ASC",
        "page=0",
        "page=-1",
        "page=x",
        "page_size=0",
        "page_size=501",
        "page_size=ten",
        "search=" + "s" * 81,
        "module=" + "m" * 65,
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(client, url, query):
    name = query.split("=")[0]
    response = client.get(f"{url}?module=subscriptions&{query}")
    assert response.status_code == 400
    assert name in response.json()


def test_list_query_count_does_not_grow_with_rows(client, url, django_assert_max_num_queries):
    for index in range(20):
        create(client, url, name=f"view {index}")
    with django_assert_max_num_queries(6):
        assert client.get(f"{url}?module=subscriptions").json()["count"] == 20


# --- get, patch, delete ----------------------------------------------------------------------


def test_get_patch_delete(client, segment_url):
    assert client.get(segment_url).json()["name"] == "Active trials"
    assert client.get(f"{segment_url}/").status_code == 200
    response = client.patch(segment_url, {"name": "Active trials — EUR"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Active trials — EUR"
    assert response.json()["filters"] == [PREDICATE]
    assert client.patch(f"{segment_url}/", {"module": "invoices"}, format="json").status_code == 200
    assert client.delete(segment_url).status_code == 204
    assert client.get(segment_url).status_code == 404
    assert client.delete(segment_url).status_code == 404
    assert client.patch(segment_url, {"name": "x"}, format="json").status_code == 404


def test_patch_changes_only_the_given_fields(client, segment_url):
    eur = [{"type": "currency", "id": "eur", "label": "EUR"}]
    before = client.get(segment_url).json()
    FilterSegment.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    body = client.patch(segment_url, {"filters": eur}, format="json").json()
    assert body["filters"] == eur
    assert (body["name"], body["module"], body["created_at"]) == (
        before["name"],
        before["module"],
        before["created_at"],
    )
    assert FilterSegment.objects.get().updated_at > timezone.now() - dt.timedelta(minutes=1)


def test_patch_at_the_boundaries_is_accepted(client, segment_url):
    predicate = {"type": "t" * 64, "id": "i" * 255, "label": "l" * 255}
    body = {"name": "n" * 80, "module": "m" * 64, "filters": [predicate] * 50}
    assert client.patch(segment_url, body, format="json").status_code == 200
    assert client.patch(segment_url, {"filters": []}, format="json").status_code == 200


@pytest.mark.parametrize("body", [{}, {"unknown": 1}, {"id": "seg_x"}, {"created_at": "2024"}])
def test_patch_without_a_field_is_400_and_changes_nothing(client, segment_url, body):
    before = snapshot()
    response = client.patch(segment_url, body, format="json")
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("body,field", [b for b in BAD_BODIES if "colour" not in b[0]])
def test_patch_rejects_each_limit_one_past_and_changes_nothing(client, segment_url, body, field):
    before = snapshot()
    response = client.patch(segment_url, {"name": "Renamed", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


# --- who may ---------------------------------------------------------------------------------


def test_api_tokens_are_refused_with_403_on_every_endpoint(organization, segment_url, url):
    before = snapshot()
    other = f"/api/{uuid.uuid4()}/filter-segments/"
    for scopes in ("read,write", "read"):
        secret = api_token(organization, scopes=scopes, name=scopes)[1]
        for headers in ({"HTTP_AUTHORIZATION": f"Bearer {secret}"}, {"HTTP_X_API_KEY": secret}):
            token = APIClient()
            token.credentials(**headers)
            assert token.get(f"{url}?module=subscriptions").status_code == 403
            assert create(token, url).status_code == 403
            assert token.get(segment_url).status_code == 403
            assert token.patch(segment_url, {"name": "x"}, format="json").status_code == 403
            assert token.delete(segment_url).status_code == 403
            # Unknown accounts answer the same, so a token cannot probe which exist.
            assert token.get(f"{other}?module=x").status_code == 403
            assert token.get(f"{other}seg_x").status_code == 403
    assert snapshot() == before


def test_without_credentials_is_401(api_client, url, segment_url):
    assert api_client.get(f"{url}?module=x").status_code == 401
    assert create(api_client, url).status_code == 401
    assert api_client.get(segment_url).status_code == 401
    assert api_client.patch(segment_url, {"name": "x"}, format="json").status_code == 401
    assert api_client.delete(segment_url).status_code == 401


def test_other_account_and_non_member_are_404(client, other_organization, organization):
    theirs = member_client(other_organization, "olga", Role.ADMIN)
    other_url = f"/api/{other_organization.pk}/filter-segments/"
    segment_id = create(theirs, other_url).json()["id"]
    before = snapshot()
    # A member of one account, asking for an account they are not in.
    assert client.get(f"{other_url}?module=subscriptions").status_code == 404
    assert create(client, other_url).status_code == 404
    assert client.get(f"{other_url}{segment_id}").status_code == 404
    # Their segment through our account.
    ours = f"/api/{organization.pk}/filter-segments/{segment_id}"
    assert client.get(ours).status_code == 404
    assert client.patch(ours, {"name": "x"}, format="json").status_code == 404
    assert client.delete(ours).status_code == 404
    # Accounts that do not exist, or are not even ids.
    assert client.get(f"/api/{uuid.uuid4()}/filter-segments/?module=x").status_code == 404
    assert client.get("/api/not-a-uuid/filter-segments/?module=x").status_code == 404
    assert snapshot() == before


SEGMENT_NOT_FOUND = {"detail": "Filter segment not found."}
ACCOUNT_NOT_FOUND = {"detail": "Organization not found."}


def test_every_404_is_a_detail_object(client, url, segment_url, other_organization, settings):
    """Seed 002's 404s read ``{"detail": "..."}``, as documented, never a bare list."""
    theirs = member_client(other_organization, "olga", Role.ADMIN)
    their_url = f"/api/{other_organization.pk}/filter-segments/"
    their_id = create(theirs, their_url).json()["id"]
    our_id = segment_url.rsplit("/", 1)[1]
    other_environment = our_id.replace(f"seg_{settings.COSTLINE_ENVIRONMENT}_", "seg_prod_", 1)
    assert other_environment != our_id
    for segment_id in (
        "seg_dev_0000000000000000",  # unknown
        their_id,  # another account's
        other_environment,  # ours, spelled with another environment
        "not-an-id",  # malformed
        "x" * 300,
    ):
        for method in ("get", "patch", "delete"):
            response = getattr(client, method)(f"{url}{segment_id}", {"name": "x"}, format="json")
            assert (response.status_code, response.json()) == (404, SEGMENT_NOT_FOUND), (
                method,
                segment_id,
            )
    for account in (other_organization.pk, uuid.uuid4(), "not-a-uuid"):
        for response in (
            client.get(f"/api/{account}/filter-segments/?module=x"),
            create(client, f"/api/{account}/filter-segments/"),
            client.get(f"/api/{account}/filter-segments/{their_id}"),
        ):
            assert (response.status_code, response.json()) == (404, ACCOUNT_NOT_FOUND), account


def test_members_use_all_but_only_creator_or_admin_change(client, url, organization):
    segment_url = f"{url}{create(client, url).json()['id']}"
    viewer = member_client(organization, "val", Role.VIEWER)
    editor = member_client(organization, "ed", Role.EDITOR)
    for other in (viewer, editor):
        assert other.get(segment_url).status_code == 200
        assert other.get(f"{url}?module=subscriptions").json()["count"] >= 1
        assert other.patch(segment_url, {"name": "x"}, format="json").status_code == 403
        assert other.delete(segment_url).status_code == 403
    assert FilterSegment.objects.get(pk=segment_url.rsplit("/", 1)[1]).name == "Active trials"
    # A viewer saves and changes their own views; an admin may change anyone's.
    own = f"{url}{create(viewer, url, name='Mine').json()['id']}"
    assert viewer.patch(own, {"name": "Still mine"}, format="json").status_code == 200
    assert client.patch(own, {"name": "Admin renamed"}, format="json").status_code == 200
    assert client.delete(own).status_code == 204
    assert viewer.delete(segment_url).status_code == 403


def test_a_deleted_creator_leaves_a_null_creator(client, url, organization, settings):
    viewer = member_client(organization, "val", Role.VIEWER)
    segment_url = f"{url}{create(viewer, url).json()['id']}"
    FilterSegment.objects.get().created_by.delete()
    assert client.get(segment_url).json()["created_by_user_id"] is None


def test_writes_need_csrf(session_client, url, segment_url):
    before = snapshot()
    response = create(session_client, url)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert session_client.patch(segment_url, {"name": "x"}, format="json").status_code == 403
    assert session_client.delete(segment_url).status_code == 403
    assert snapshot() == before
    assert session_client.get(f"{url}?module=subscriptions").status_code == 200
    session_client.get("/saved-views/")  # sets the csrftoken cookie
    token = session_client.cookies["csrftoken"].value
    response = session_client.post(
        url,
        {"module": "m", "name": "n", "filters": []},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201


# --- OpenAPI ---------------------------------------------------------------------------------


def test_schema_documents_every_status(client, db):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    listing = paths["/api/{account_id}/filter-segments/"]
    detail = paths["/api/{account_id}/filter-segments/{segment_id}"]
    expected = [
        (listing, "get", {"200", "400", "401", "403", "404"}),
        (listing, "post", {"201", "400", "401", "403", "404"}),
        (detail, "get", {"200", "401", "403", "404"}),
        (detail, "patch", {"200", "400", "401", "403", "404"}),
        (detail, "delete", {"204", "401", "403", "404"}),
    ]
    for path, method, codes in expected:
        assert codes <= set(path[method]["responses"]), method
    page = listing["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[1]]
    assert {"count", "page", "page_size", "total_pages", "results"} <= set(page["properties"])
    parameters = {p["name"] for p in listing["get"]["parameters"]}
    assert {"module", "page", "page_size", "search", "sort_by", "sort_order"} <= parameters
    # Spelling variants (trailing slash or not) are not documented twice.
    assert "/api/{account_id}/filter-segments" not in paths
    assert "/api/{account_id}/filter-segments/{segment_id}/" not in paths


def test_schema_allows_only_what_the_api_accepts(client, db):
    """A client built from the document sends nothing the API refuses (the fuzz test's rule)."""
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    paths = schema["paths"]
    listing = paths["/api/{account_id}/filter-segments/"]
    detail = paths["/api/{account_id}/filter-segments/{segment_id}"]
    query = {p["name"]: p["schema"] for p in listing["get"]["parameters"]}
    assert (query["module"]["minLength"], query["module"]["maxLength"]) == (1, 64)
    assert query["module"]["pattern"] == r"\S"
    assert (query["page_size"]["minimum"], query["page_size"]["maximum"]) == (1, 500)
    assert query["page"]["minimum"] == 1 and query["search"]["maxLength"] == 80
    create_body = listing["post"]["requestBody"]
    patch_body = detail["patch"]["requestBody"]
    assert create_body["required"] and patch_body["required"]
    create_ref = create_body["content"]["application/json"]["schema"]["$ref"]
    patch_ref = patch_body["content"]["application/json"]["schema"]["$ref"]
    create_schema = components[create_ref.rsplit("/", 1)[1]]
    patch_schema = components[patch_ref.rsplit("/", 1)[1]]
    for body in (create_schema, patch_schema):
        assert body["additionalProperties"] is False
        assert body["properties"]["filters"]["maxItems"] == 50
        assert body["properties"]["name"]["pattern"] == r"\S"
        predicate = components[body["properties"]["filters"]["items"]["$ref"].rsplit("/", 1)[1]]
        assert predicate["additionalProperties"] is False
        assert set(predicate["required"]) == {"type", "id", "label"}
    assert patch_schema["minProperties"] == 1 and "required" not in patch_schema
