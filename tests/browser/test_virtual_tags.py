"""Virtual tags in a browser: write one in the editor, preview the money it moves (nothing
saved), save it, and read its costs by value and its history; bad input is shown in place."""

from datetime import date

from costs import services
from tests.costs.focus_files import generate
from virtual_tags.models import VirtualTagConfig

OCTOBER = [date(2026, 10, 1)]  # the last full month on 2026-11-30


def visible(page) -> str:
    text = page.inner_text("main")
    assert "{{" not in text and "{%" not in text
    return text


def test_write_preview_save_and_read_a_virtual_tag(
    signed_in_page, live_server, organization, tmp_path
):
    aws = services.integration_create(organization, "aws", "AWS payer")
    services.focus_import(aws, generate(tmp_path, "aws", rows=300, seed=91, months=OCTOBER))
    page = signed_in_page

    page.goto(f"{live_server.url}/virtual-tags/")
    assert "No virtual tags yet" in visible(page)
    page.click("text=New virtual tag")
    page.fill("input[name=key]", "Cost Owner")
    page.fill("input[name=backfill_until]", "2026-01-01")
    page.select_option("select[name=values-0-kind]", "name")
    page.fill(
        "textarea[name=values-0-filter]", "costs.provider = 'aws' AND costs.service = 'AmazonEC2'"
    )
    page.fill("input[name=values-0-name]", "Compute")
    page.select_option("select[name=values-1-kind]", "percentages")
    page.fill("textarea[name=values-1-filter]", "costs.provider = 'aws'")
    page.fill("input[name=values-1-percentages]", "Data=60, Web=40")
    # Each row shows the fields of its kind of value only.
    assert page.is_hidden("input[name=values-1-name]")
    assert page.is_hidden("input[name=values-0-percentages]")

    page.click("button[value=preview]")
    page.wait_for_selector("#money-moved")
    moved = page.inner_text("#money-moved")
    assert "October 2026" in moved and "Compute" in moved and "Data" in moved
    assert "(untagged)" in moved and "$" in moved and "Nothing is saved yet" in moved
    assert not VirtualTagConfig.objects.exists()
    # The form keeps what was typed.
    assert page.input_value("input[name=values-1-percentages]") == "Data=60, Web=40"

    page.click("button[value=save]")
    page.wait_for_url(lambda url: "/virtual-tags/vtag_" in url)
    page.reload()
    text = visible(page)
    assert "Cost Owner" in text and "AWS: complete" in text
    by_value = page.inner_text("#costs-by-value")
    assert "Compute" in by_value and "Data" in by_value and "Web" in by_value and "$" in by_value
    history = page.inner_text("#history")
    assert "created" in history and "alice" in history and "from (untagged) to Compute" in history

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("text=Edit")
    page.fill("textarea[name=values-0-filter]", "costs.nope = 'x'")
    page.click("button[value=save]")
    errors = page.inner_text("#value-1")
    assert "filter" in errors and "costs.nope" in errors
    assert VirtualTagConfig.objects.get().values[0]["filter"].startswith("costs.provider")
