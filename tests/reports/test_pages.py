"""The report pages: save the explorer's question as a report, the list with folders, a report's
page (totals, previous-period deltas, table) and its CSV, all inside one organization."""

import csv
import io
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.test import Client

from organizations.models import Role
from reports.models import CostReport
from segments.filter_tree import from_json, render_vql

from ..factories import MembershipFactory, UserFactory

EXPLORER = (
    "provider=aws&service=AmazonEC2&service=AmazonS3&group_by=service&granularity=month"
    "&start=2026-09-01&end=2026-09-30"
)


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def save(browser, title="EC2 and S3", query=EXPLORER, **extra):
    return browser.post("/reports/new/", {"title": title, "query": query, **extra})


def test_save_as_report_keeps_the_explorers_question(browser, organization):
    form = browser.get(f"/reports/new/?{EXPLORER}")
    assert form.status_code == 200
    assert b"costs.provider = &#x27;aws&#x27;" in form.content
    response = save(browser)
    report = CostReport.objects.get(title="EC2 and S3")
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.token}/"
    assert render_vql(from_json(report.filter_tree)) == (
        "costs.provider = 'aws' AND costs.service IN ('AmazonEC2', 'AmazonS3')"
    )
    assert report.groupings == ["service"]
    assert (report.start_date.isoformat(), report.end_date.isoformat()) == (
        "2026-09-01",
        "2026-09-30",
    )
    assert report.date_bin == "month"
    assert report.include_credits and report.include_refunds and report.amortize
    assert report.organization == organization


def test_report_page_totals_equal_the_explorer_and_the_csv(browser, token_client, imported):
    save(browser)
    report = CostReport.objects.get()
    page = browser.get(f"/reports/{report.token}/")
    assert page.status_code == 200
    figures = page.context["figures"]
    explorer = token_client.get(f"/api/v1/costs?{EXPLORER}").json()
    assert round(figures["total"], 2) == round(
        Decimal(str(explorer["totals"]["effective_cost"])), 2
    )
    assert figures["previous_total"] is not None  # August, the month before
    assert {row["label"] for row in figures["rows"]} == {"AmazonEC2", "AmazonS3"}
    assert b'id="report-chart"' in page.content and b'id="report-table"' in page.content
    download = browser.get(f"/reports/{report.token}/costs.csv")
    assert download["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert sum(Decimal(row["amount"]) for row in rows) == figures["total"]
    api = token_client.get(f"/v2/costs?cost_report_token={report.token}").json()
    assert Decimal(api["total_cost"]["amount"]) == figures["total"]


def test_reports_list_shows_folders(browser, token_client):
    folder = token_client.post("/v2/folders", {"title": "Platform"}, format="json").json()
    token_client.post(
        "/v2/cost_reports", {"title": "Filed", "folder_token": folder["token"]}, format="json"
    )
    token_client.post("/v2/cost_reports", {"title": "Loose"}, format="json")
    page = browser.get("/reports/")
    assert page.status_code == 200
    (shelf,) = page.context["shelves"]
    assert shelf["label"] == "Platform"
    assert [report.title for report in shelf["reports"]] == ["Filed"]
    assert [report.title for report in page.context["unfiled"]] == ["Loose"]
    deleted = browser.post(f"/reports/folders/{folder['token']}/delete/")
    assert deleted.status_code == 302
    assert sorted(r.title for r in browser.get("/reports/").context["unfiled"]) == [
        "Filed",
        "Loose",
    ]
    created = browser.post("/reports/folders/new/", {"title": "Finance"})
    assert created.status_code == 302
    assert [s["label"] for s in browser.get("/reports/").context["shelves"]] == ["Finance"]


def test_other_organizations_and_viewers(browser, other_token_client, organization):
    theirs = other_token_client.post("/v2/cost_reports", {"title": "T"}, format="json").json()
    their_folder = other_token_client.post("/v2/folders", {"title": "F"}, format="json").json()
    assert browser.post(f"/reports/folders/{their_folder['token']}/delete/").status_code == 404
    assert browser.get(f"/reports/{theirs['token']}/").status_code == 404
    assert browser.get(f"/reports/{theirs['token']}/costs.csv").status_code == 404
    viewer = UserFactory(username="vic")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    assert client.get("/reports/").status_code == 200
    assert client.post("/reports/new/", {"title": "x", "query": EXPLORER}).status_code == 403
    assert not CostReport.objects.filter(organization=organization).exists()


def test_delete_from_the_page(browser):
    save(browser)
    report = CostReport.objects.get()
    response = browser.post(f"/reports/{report.token}/delete/")
    assert response.status_code == 302
    assert not CostReport.objects.exists()


def test_edit_a_report_on_its_page(browser, token_client):
    report = token_client.post(
        "/v2/cost_reports",
        {"title": "Old", "filter": "costs.provider = 'aws'", "groupings": "service"},
        format="json",
    ).json()
    folder = token_client.post("/v2/folders", {"title": "Team"}, format="json").json()
    url = f"/reports/{report['token']}/edit/"
    form = browser.get(url)
    assert form.status_code == 200
    assert form.context["form"].initial["filter"] == "costs.provider = 'aws'"
    fields = {
        "title": "New",
        "filter": "costs.provider = 'gcp'",
        "groupings": "region,tag:env",
        "folder": folder["token"],
        "date_interval": "custom",
        "start_date": "2026-08-01",
        "end_date": "2026-08-31",
        "date_bin": "week",
        "chart_type": "area",
        "include_credits": "on",
    }
    assert browser.post(url, fields).status_code == 302
    saved = token_client.get(f"/v2/cost_reports/{report['token']}").json()
    assert saved["title"] == "New"
    assert saved["filter"] == "costs.provider = 'gcp'"
    assert saved["groupings"] == "region,tag:env"
    assert saved["folder_token"] == folder["token"]
    assert (saved["start_date"], saved["date_bin"]) == ("2026-08-01", "week")
    assert saved["settings"]["include_credits"] is True
    assert saved["settings"]["amortize"] is False  # unchecked
    broken = browser.post(url, {**fields, "filter": "costs.provider = "})
    assert broken.status_code == 200 and broken.context["form"].errors["filter"]
    no_dates = browser.post(url, {**fields, "start_date": "", "end_date": ""})
    assert no_dates.context["form"].errors


def test_a_saved_report_opens_back_in_the_explorer(browser, token_client):
    query = EXPLORER + "&tag=env=prod&metric=billed_cost"
    save(browser, query=query)
    report = CostReport.objects.get()
    page = browser.get(f"/reports/{report.token}/")
    assert QueryDict(page.context["explorer_query"]) == QueryDict(query)
    assert b'id="report-explorer"' in page.content
    narrowed = token_client.post(
        "/v2/cost_reports",
        {"title": "No credits", "filter": "costs.provider = 'aws'"},
        format="json",
    ).json()
    assert browser.get(f"/reports/{narrowed['token']}/").context["explorer_query"] is None


def test_a_long_table_is_cut_and_says_so(browser, imported, monkeypatch):
    from reports import views

    monkeypatch.setattr(views, "TABLE_ROWS", 1)
    save(browser)
    report = CostReport.objects.get()
    page = browser.get(f"/reports/{report.token}/")
    figures = page.context["figures"]
    assert (len(figures["rows"]), figures["rows_left_out"]) == (1, 1)
    assert b"1 smaller groups are left out here" in page.content
