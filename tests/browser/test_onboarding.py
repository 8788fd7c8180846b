"""A new organization in a browser: the overview guides it to an integration and an import,
then one click on a suggestion creates a first segment; reloading does not create another."""

from costs import services
from segments.models import Segment
from tests.costs.focus_files import generate

PHONE = {"width": 390, "height": 844}


def test_new_organization_is_guided_to_a_first_segment(
    signed_in_page, live_server, organization, tmp_path
):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    guide = page.locator("#get-started")
    assert "No integration yet." in guide.inner_text()
    page.click("#add-integration")
    page.wait_for_url(lambda url: url.endswith("/integrations/"))

    aws = services.integration_create(organization, "aws", "AWS payer")
    page.goto(f"{live_server.url}/")
    assert "into AWS payer" in page.locator("#get-started").inner_text()
    page.click("#import-export")
    page.wait_for_url(lambda url: f"/imports/?integration={aws.pk}" in url)

    services.focus_import(aws, generate(tmp_path, "aws", rows=300, seed=6))
    page.goto(f"{live_server.url}/")
    button = page.get_by_role("button", name="Create “All Amazon Web Services costs”")
    if not button.count():  # the provider's label as Provider.choices spells it
        button = page.locator("#segment-suggestions button").first
    name = button.inner_text().removeprefix("Create “").removesuffix("”")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    button.click()
    page.wait_for_url(lambda url: "/segments/" in url)
    assert name in page.locator("main").inner_text()
    page.reload()  # the POST was redirected: reloading only shows the segment again
    assert Segment.objects.filter(organization=organization, is_system_generated=False).count() == 1
    page.goto(f"{live_server.url}/")
    assert page.locator("#get-started").count() == 0
