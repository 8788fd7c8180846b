"""Save the current filters of a list page, clear them, apply the view back; rename; delete."""

import pytest

from filter_segments.models import FilterSegment
from segments.filter_tree import parse_vql
from segments.models import Segment, Status
from segments.services import segment_create


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
    page.click("#saved-views [data-action=save]")
    page.wait_for_selector("#saved-views .saved-view a.apply-view", state="attached")
    assert FilterSegment.objects.get().name == "AWS storage view"

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

    page.click("#saved-views summary")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#saved-views [data-action=delete]")
    page.wait_for_selector("#saved-views a.apply-view", state="detached")
    assert not FilterSegment.objects.exists()
