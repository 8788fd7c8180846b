"""/v2/folders, /v2/saved_filters and /v2/cost_reports: Vantage shapes, paging, errors, scoping."""

import re

import pytest
from rest_framework.test import APIClient

from reports.models import CostReport, Folder, SavedFilter

from ..factories import WorkspaceFactory, api_token

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REPORT_KEYS = {
    "token",
    "title",
    "folder_token",
    "saved_filter_tokens",
    "business_metric_tokens_with_metadata",
    "default_forecast",
    "filter",
    "groupings",
    "settings",
    "created_at",
    "workspace_token",
    "previous_period_start_date",
    "previous_period_end_date",
    "start_date",
    "end_date",
    "date_interval",
    "chart_type",
    "date_bin",
    "chart_settings",
}
SETTINGS = {
    "include_credits": False,
    "include_refunds": False,
    "include_discounts": True,
    "include_tax": True,
    "amortize": True,
    "unallocated": False,
    "aggregate_by": "cost",
    "show_previous_period": True,
    "complete_period": False,
}


def post(client, path, **body):
    return client.post(path, body, format="json")


def put(client, path, **body):
    return client.put(path, body, format="json")


def test_saved_filter_crud_shapes(token_client, organization):
    created = post(token_client, "/v2/saved_filters", title="AWS", filter="costs.provider = 'aws'")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == {
        "token",
        "title",
        "cost_report_tokens",
        "filter",
        "created_at",
        "created_by",
        "workspace_token",
    }
    assert re.fullmatch(r"svd_fltr_[0-9a-f]{16}", body["token"])
    assert body["filter"] == "costs.provider = 'aws'"
    assert body["cost_report_tokens"] == []
    assert body["created_by"] is None  # a token, not a person, created it
    assert body["workspace_token"] == organization.default_workspace.token
    assert ISO_Z.match(body["created_at"])
    path = f"/v2/saved_filters/{body['token']}"
    assert token_client.get(path).json() == body
    updated = put(token_client, path, title="GCP", filter="costs.provider = 'gcp'").json()
    assert (updated["title"], updated["filter"]) == ("GCP", "costs.provider = 'gcp'")
    assert token_client.delete(path, {}, format="json").status_code == 204
    assert token_client.get(path).status_code == 404


def test_folder_crud_shapes_and_nesting(token_client, organization):
    saved = post(token_client, "/v2/saved_filters", title="AWS", filter="costs.provider = 'aws'")
    top = post(token_client, "/v2/folders", title="Platform").json()
    assert re.fullmatch(r"fldr_[0-9a-f]{16}", top["token"])
    assert top["type"] == "CostFolder"
    assert top["parent_folder_token"] is None
    assert top["saved_filter_tokens"] == []
    assert ISO_Z.match(top["updated_at"])
    child = post(
        token_client,
        "/v2/folders",
        title="Storage",
        parent_folder_token=top["token"],
        saved_filter_tokens=[saved.json()["token"]],
    ).json()
    assert child["parent_folder_token"] == top["token"]
    assert child["saved_filter_tokens"] == [saved.json()["token"]]
    # A folder cannot move under its own sub-folder.
    cycle = put(token_client, f"/v2/folders/{top['token']}", parent_folder_token=child["token"])
    assert cycle.status_code == 422
    assert cycle.json()["errors"][0].startswith("parent_folder_token:")
    moved = put(token_client, f"/v2/folders/{child['token']}", parent_folder_token=None).json()
    assert moved["parent_folder_token"] is None
    report = post(token_client, "/v2/cost_reports", title="R", folder_token=top["token"]).json()
    assert token_client.delete(f"/v2/folders/{top['token']}").status_code == 204
    # The report stays, at the top level.
    assert token_client.get(f"/v2/cost_reports/{report['token']}").json()["folder_token"] is None


def test_cost_report_create_shape_and_defaults(token_client, organization):
    response = post(token_client, "/v2/cost_reports", title="Everything")
    assert response.status_code == 201, response.json()
    report = response.json()
    assert set(report) == REPORT_KEYS
    assert re.fullmatch(r"rprt_[0-9a-f]{16}", report["token"])
    assert report["settings"] == SETTINGS
    assert report["filter"] is None
    assert report["groupings"] is None
    assert report["date_interval"] == "this_month"
    assert report["date_bin"] == "cumulative"
    assert report["chart_type"] == "line"
    assert report["chart_settings"] == {"y_axis_dimension": "cost", "x_axis_dimension": ["date"]}
    assert report["business_metric_tokens_with_metadata"] == []
    assert report["default_forecast"] == {"kind": "baseline"}
    assert report["start_date"].endswith("-01")  # this month, resolved
    assert report["previous_period_start_date"] is None


def test_cost_report_full_create_update_delete(token_client, organization):
    saved = post(token_client, "/v2/saved_filters", title="EC2", filter="costs.service = 'EC2'")
    folder = post(token_client, "/v2/folders", title="Team").json()
    body = {
        "title": "AWS by service",
        "filter": "costs.provider = 'aws'",
        "groupings": "provider,service,tag:env",
        "saved_filter_tokens": [saved.json()["token"]],
        "folder_token": folder["token"],
        "settings": {"include_credits": True, "amortize": False, "aggregate_by": "usage"},
        "start_date": "2026-08-01",
        "end_date": "2026-08-31",
        "previous_period_start_date": "2026-07-01",
        "previous_period_end_date": "2026-07-31",
        "date_bin": "week",
        "chart_type": "bar",
        "business_metric_tokens_with_metadata": [{"business_metric_token": "bsnss_mtrc_1"}],
    }
    report = token_client.post("/v2/cost_reports", body, format="json").json()
    assert report["groupings"] == "provider,service,tag:env"
    assert report["date_interval"] == "custom"
    assert (report["start_date"], report["end_date"]) == ("2026-08-01", "2026-08-31")
    assert report["previous_period_end_date"] == "2026-07-31"
    assert report["settings"]["include_credits"] is True
    assert report["settings"]["amortize"] is False
    assert report["settings"]["aggregate_by"] == "usage"
    assert report["folder_token"] == folder["token"]
    assert report["saved_filter_tokens"] == [saved.json()["token"]]
    assert (report["date_bin"], report["chart_type"]) == ("week", "bar")
    # The saved filter lists the reports it is applied to.
    saved_body = token_client.get(f"/v2/saved_filters/{saved.json()['token']}").json()
    assert saved_body["cost_report_tokens"] == [report["token"]]
    path = f"/v2/cost_reports/{report['token']}"
    updated = put(
        token_client, path, title="Renamed", date_interval="last_month", groupings="region"
    ).json()
    assert updated["title"] == "Renamed"
    assert updated["date_interval"] == "last_month"
    assert updated["groupings"] == "region"
    assert updated["filter"] == "costs.provider = 'aws'"  # untouched
    assert updated["settings"]["include_credits"] is True
    cleared = put(token_client, path, filter="", saved_filter_tokens=[]).json()
    assert cleared["filter"] is None and cleared["saved_filter_tokens"] == []
    assert token_client.delete(path, {}, format="json").status_code == 204
    assert token_client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({}, 400, "title:"),
        ({"title": "x", "filter": "costs.provider = "}, 400, "filter"),
        ({"title": "x", "filter": "costs.nope = 'a'"}, 422, "costs.nope"),
        ({"title": "x", "groupings": "provider,colour"}, 400, "groupings:"),
        ({"title": "x", "groupings": "tag:"}, 400, "groupings:"),
        ({"title": "x", "date_bin": "fortnight"}, 400, "date_bin:"),
        ({"title": "x", "date_bin": "hour"}, 422, "date_bin:"),
        ({"title": "x", "date_interval": "custom"}, 400, "date_interval:"),
        ({"title": "x", "start_date": "2026-08-01"}, 400, "end_date:"),
        ({"title": "x", "start_date": "2026-08-09", "end_date": "2026-08-01"}, 400, "end_date:"),
        ({"title": "x", "previous_period_start_date": "2026-08-01"}, 400, "previous_period_end"),
        ({"title": "x", "settings": {"aggregate_by": "weight"}}, 400, "settings.aggregate_by:"),
        ({"title": "x", "folder_token": "fldr_0000000000000000"}, 404, "folder_token:"),
        ({"title": "x", "saved_filter_tokens": ["svd_fltr_0"]}, 404, "saved_filter_tokens:"),
        ({"title": "x", "workspace_token": "wrkspc_0000000000000000"}, 404, "workspace_token:"),
    ],
)
def test_cost_report_errors_name_the_field(token_client, body, status, fragment):
    response = token_client.post("/v2/cost_reports", body, format="json")
    assert response.status_code == status, response.json()
    assert fragment in " ".join(response.json()["errors"])
    assert not CostReport.objects.exists()


def test_lists_page_with_absolute_links(token_client):
    for index in range(3):
        post(token_client, "/v2/cost_reports", title=f"Report {index}")
        post(token_client, "/v2/folders", title=f"Folder {index}")
        post(token_client, "/v2/saved_filters", title=f"Filter {index}")
    for path, key in (
        ("/v2/cost_reports", "cost_reports"),
        ("/v2/folders", "folders"),
        ("/v2/saved_filters", "saved_filters"),
    ):
        first = token_client.get(f"{path}?limit=2").json()
        assert len(first[key]) == 2
        assert first["links"]["prev"] is None
        assert first["links"]["next"] == f"http://testserver{path}?limit=2&page=2"
        second = token_client.get(first["links"]["next"]).json()
        assert len(second[key]) == 1 and second["links"]["next"] is None
        searched = token_client.get(f"{path}?q=1").json()[key]
        assert [item["title"][-1] for item in searched] == ["1"]


def test_reports_list_by_folder_and_query_count(token_client, django_assert_max_num_queries):
    folder = post(token_client, "/v2/folders", title="F").json()
    saved = post(token_client, "/v2/saved_filters", title="S", filter="costs.provider = 'aws'")
    for index in range(6):
        post(
            token_client,
            "/v2/cost_reports",
            title=f"R{index}",
            folder_token=folder["token"] if index % 2 else None,
            saved_filter_tokens=[saved.json()["token"]],
        )
    with django_assert_max_num_queries(12):
        listed = token_client.get(f"/v2/cost_reports?folder_token={folder['token']}").json()
    assert [report["title"] for report in listed["cost_reports"]] == ["R1", "R3", "R5"]
    unknown = token_client.get("/v2/cost_reports?folder_token=fldr_0000000000000000")
    assert unknown.status_code == 404


def test_another_organizations_objects_are_404(token_client, other_token_client):
    theirs = {
        "cost_reports": post(other_token_client, "/v2/cost_reports", title="Theirs").json(),
        "folders": post(other_token_client, "/v2/folders", title="Theirs").json(),
        "saved_filters": post(other_token_client, "/v2/saved_filters", title="Theirs").json(),
    }
    for resource, item in theirs.items():
        path = f"/v2/{resource}/{item['token']}"
        assert token_client.get(path).status_code == 404
        assert put(token_client, path, title="Mine").status_code == 404
        assert token_client.delete(path).status_code == 404
        assert token_client.get(f"/v2/{resource}").json()[resource] == []
    # Nor can they be referenced.
    response = post(
        token_client,
        "/v2/cost_reports",
        title="Sneaky",
        folder_token=theirs["folders"]["token"],
        saved_filter_tokens=[theirs["saved_filters"]["token"]],
    )
    assert response.status_code == 404
    assert Folder.objects.get(token=theirs["folders"]["token"]).title == "Theirs"


def test_read_token_reads_but_cannot_write(read_client, token_client):
    report = post(token_client, "/v2/cost_reports", title="Mine").json()
    assert read_client.get(f"/v2/cost_reports/{report['token']}").status_code == 200
    for path in ("/v2/cost_reports", "/v2/folders", "/v2/saved_filters"):
        response = post(read_client, path, title="Nope")
        assert response.status_code == 403
        assert response.json()["errors"]
    assert read_client.delete(f"/v2/cost_reports/{report['token']}").status_code == 403
    assert SavedFilter.objects.count() == 0


def test_no_trailing_slash_routes_and_unauthenticated(api_client, token_client, db):
    assert post(token_client, "/v2/cost_reports/", title="x").status_code == 404
    response = api_client.get("/v2/cost_reports")
    assert response.status_code == 401
    assert response.json()["errors"]


def test_workspace_rules(organization):
    second = WorkspaceFactory(organization=organization, name="Second")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(organization)[1]}")
    # Two workspaces reachable: which one must be said.
    response = post(client, "/v2/cost_reports", title="Where?")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("workspace_token:")
    report = post(client, "/v2/cost_reports", title="Here", workspace_token=second.token).json()
    assert report["workspace_token"] == second.token
    saved = post(
        client,
        "/v2/saved_filters",
        title="Elsewhere",
        workspace_token=organization.default_workspace.token,
    ).json()
    mixed = put(client, f"/v2/cost_reports/{report['token']}", saved_filter_tokens=[saved["token"]])
    assert mixed.status_code == 422
    # A folder decides its report's workspace.
    folder = post(client, "/v2/folders", title="F", workspace_token=second.token).json()
    inside = post(client, "/v2/cost_reports", title="In", folder_token=folder["token"]).json()
    assert inside["workspace_token"] == second.token


def test_a_report_read_and_written_back_keeps_its_interval(token_client):
    report = post(token_client, "/v2/cost_reports", title="Monthly").json()
    path = f"/v2/cost_reports/{report['token']}"
    body = {key: value for key, value in report.items() if key != "token"}
    written = token_client.put(path, body, format="json")
    assert written.status_code == 200, written.json()
    assert written.json()["date_interval"] == "this_month"
    assert written.json() == {**report, "title": report["title"]}
    clash = put(
        token_client,
        path,
        date_interval="last_month",
        start_date="2026-01-01",
        end_date="2026-01-31",
    )
    assert clash.status_code == 400
    assert clash.json()["errors"][0].startswith("date_interval:")
    custom = put(
        token_client, path, date_interval="custom", start_date="2026-01-01", end_date="2026-01-31"
    ).json()
    assert (custom["date_interval"], custom["start_date"]) == ("custom", "2026-01-01")
    back = put(token_client, path, date_interval="last_month").json()
    assert back["date_interval"] == "last_month" and back["start_date"] != "2026-01-01"
