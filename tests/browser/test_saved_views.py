"""Save the current filters of a list page, clear them, apply the view back; rename; delete."""

import pytest

from filter_segments.models import FilterSegment
from segments.filter_tree import parse_vql
from segments.models import Segment, Status
from segments.services import segment_create
from tests.factories import IntegrationFactory


@pytest.fixture
def segments(organization):
    for name, vql in [
        ("AWS compute", "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"),
        ("AWS storage", "costs.provider = 'aws' AND costs.service = 'AmazonS3'"),
        ("GCP", "costs.provider = 'gcp'"),
    ]:
        segment_create(organization, name=name, filter_tree=parse_vql(vql))
    Segment.objects.filter(name="AWS storage").update(status=Status.COMPLETED)


def visible_rows(page):
    return page.locator("#segment-tree tbody tr[data-token] td:first-child a").all_inner_texts()


def chips(page):
    return page.locator("#active-filters .chip").evaluate_all(
        "els => els.map(e => e.dataset.type + '=' + e.dataset.id)"
    )


def test_save_clear_apply_rename_delete(signed_in_page, live_server, segments):
    page = signed_in_page
    page.goto(f"{live_server.url}/segments/")
    assert len(visible_rows(page)) == 3
    page.select_option("#filter-form select[name=provider]", "aws")
    page.fill("#filter-form input[name=name]", "storage")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url("**provider=aws**")
    filtered_rows, filtered_chips = visible_rows(page), chips(page)
    assert filtered_rows == ["AWS storage"]
    assert sorted(filtered_chips) == ["name=storage", "provider=aws"]

    page.click("#saved-views summary")
    page.fill("#saved-views .saved-view-name", "AWS storage view")
    page.press("#saved-views .saved-view-name", "Enter")  # saves; does not submit the filters
    page.wait_for_selector("#saved-views .saved-view a.apply-view", state="attached")
    assert FilterSegment.objects.get().name == "AWS storage view"
    stored = FilterSegment.objects.get().filters
    assert sorted(stored, key=lambda p: p["type"]) == [
        {"type": "name", "id": "storage", "label": "Name: storage"},
        {"type": "provider", "id": "aws", "label": "Provider: AWS"},
    ]

    page.click("#clear-filters")
    page.wait_for_url(f"{live_server.url}/segments/")
    assert len(visible_rows(page)) == 3 and chips(page) == []

    page.click("#saved-views summary")
    page.click("#saved-views a.apply-view")
    page.wait_for_url("**provider=aws**")
    assert visible_rows(page) == filtered_rows
    assert sorted(chips(page)) == sorted(filtered_chips)

    page.click("#saved-views summary")
    page.once("dialog", lambda dialog: dialog.accept("Storage on AWS"))
    page.click("#saved-views [data-action=rename]")
    page.wait_for_selector("#saved-views a.apply-view:has-text('Storage on AWS')", state="attached")
    assert FilterSegment.objects.get().name == "Storage on AWS"

    # "Update" replaces the view's filters with the current ones.
    page.goto(f"{live_server.url}/segments/?provider=gcp")
    page.click("#saved-views summary")
    with page.expect_navigation():  # the menu reloads the page once the API answered
        page.click("#saved-views [data-action=update]")
    assert FilterSegment.objects.get().filters == [
        {"type": "provider", "id": "gcp", "label": "Provider: GCP"}
    ]

    page.click("#saved-views summary")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#saved-views [data-action=delete]")
    page.wait_for_selector("#saved-views a.apply-view", state="detached")
    assert not FilterSegment.objects.exists()


def test_integrations_view_saved_applied_then_renamed_and_deleted_on_saved_views_page(
    signed_in_page, live_server, organization
):
    for provider, name in [("aws", "AWS prod"), ("aws", "AWS dev"), ("gcp", "GCP prod")]:
        IntegrationFactory(organization=organization, provider=provider, name=name)
    page = signed_in_page

    def rows():
        return page.locator("#integration-table tbody tr td:first-child").all_inner_texts()

    page.goto(f"{live_server.url}/integrations/")
    assert sorted(rows()) == ["AWS dev", "AWS prod", "GCP prod"]
    page.select_option("#filter-form select[name=provider]", "aws")
    page.fill("#filter-form input[name=name]", "prod")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url("**name=prod**")
    assert rows() == ["AWS prod"]
    filtered_chips = chips(page)
    assert sorted(filtered_chips) == ["name=prod", "provider=aws"]
    chip_texts = page.locator("#active-filters .chip").all_inner_texts()

    page.click("#saved-views summary")
    page.fill("#saved-views .saved-view-name", "Production on AWS")
    page.click("#saved-views [data-action=save]")
    page.wait_for_selector("#saved-views a.apply-view", state="attached")

    page.click("#clear-filters")
    page.wait_for_url(f"{live_server.url}/integrations/")
    assert len(rows()) == 3 and chips(page) == []

    page.goto(f"{live_server.url}/saved-views/")
    page.click("#saved-view-table a.apply-view:has-text('Production on AWS')")
    page.wait_for_url("**/integrations/?**")
    assert rows() == ["AWS prod"]
    assert sorted(chips(page)) == sorted(filtered_chips)
    assert page.locator("#active-filters .chip").all_inner_texts() == chip_texts

    page.goto(f"{live_server.url}/saved-views/")
    page.once("dialog", lambda dialog: dialog.accept("Prod (AWS)"))
    page.click("#saved-view-table [data-action=rename]")
    page.wait_for_selector("#saved-view-table a.apply-view:has-text('Prod (AWS)')")
    assert FilterSegment.objects.get().name == "Prod (AWS)"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#saved-view-table [data-action=delete]")
    page.wait_for_selector("#saved-view-table a.apply-view", state="detached")
    assert not FilterSegment.objects.exists()
