"""A new organization is guided from the overview: add an integration, import an export, then
create a first segment from a suggestion in one click (POST with CSRF, redirect after)."""

import re

import pytest

from costs import services
from costs.models import DimensionValue
from segments.models import Segment


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_no_integration_says_so_and_links_to_add_one_and_import(signed_in):
    html = signed_in.get("/").content.decode()
    assert "No integration yet." in text(html)
    assert re.search(r'<a class="button primary" href="/integrations/" id="add-integration">', html)
    assert 'id="import-export"' in html


def test_integration_without_data_offers_the_upload(signed_in, organization):
    aws = services.integration_create(organization, "aws", "AWS payer")
    html = signed_in.get("/").content.decode()
    assert f'href="/imports/?integration={aws.pk}" id="import-export"' in html
    assert "into AWS payer" in text(html)
    assert "segment-suggestions" not in html


def test_suggestions_per_provider_and_top_tag_create_a_segment(signed_in, organization, tmp_path):
    from tests.costs.focus_files import generate

    aws = services.integration_create(organization, "aws", "AWS payer")
    services.focus_import(aws, generate(tmp_path, "aws", rows=300, seed=5))
    html = signed_in.get("/").content.decode()
    keys = re.findall(r'name="suggestion" value="([^"]+)"', html)
    # The tag keys with the most distinct values, worked out here from the dimension values.
    counts = {}
    for key, value in DimensionValue.objects.filter(field="tag").values_list("key", "value"):
        counts.setdefault(key, set()).add(value)
    top = sorted(counts, key=lambda key: (-len(counts[key]), key))[:2]
    assert keys == ["provider:aws", *(f"tag:aws:{key}" for key in top)]
    assert "csrfmiddlewaretoken" in html

    response = signed_in.post("/onboarding/segments/", {"suggestion": f"tag:aws:{top[0]}"})
    segment = Segment.objects.get(organization=organization, is_system_generated=False)
    assert response.status_code == 302
    assert response["Location"] == f"/segments/{segment.pk}/"
    assert segment.name.endswith(f"costs tagged {top[0]}")
    assert segment.provider == "aws"
    # Once a segment exists, the guide is gone.
    assert 'id="get-started"' not in signed_in.get("/").content.decode()


def test_unknown_suggestion_and_get_are_refused(signed_in, organization):
    response = signed_in.post("/onboarding/segments/", {"suggestion": "provider:nope"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in.get("/onboarding/segments/").status_code == 405
    assert not Segment.objects.filter(is_system_generated=False).exists()


def test_a_viewer_sees_the_suggestions_but_cannot_create(client, organization, tmp_path):
    from organizations.models import Role
    from tests.costs.focus_files import generate
    from tests.factories import MembershipFactory, UserFactory

    aws = services.integration_create(organization, "aws", "AWS payer")
    services.focus_import(aws, generate(tmp_path, "aws", rows=300, seed=5))
    viewer = UserFactory(username="victor")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    client.force_login(viewer)
    html = client.get("/").content.decode()
    assert re.search(r'<button type="submit" disabled>Create “All ', html)
    response = client.post("/onboarding/segments/", {"suggestion": "provider:aws"})
    assert response.status_code == 403
    assert not Segment.objects.filter(is_system_generated=False).exists()
