"""Saved views on list pages: the menu, applying a view, stale predicates, the saved-views page."""

import re

import pytest

from filter_segments.models import FilterSegment
from organizations.models import Role

from ..factories import IntegrationFactory, MembershipFactory, OrganizationFactory, UserFactory


def saved(organization, user, module, filters, name="My view"):
    return FilterSegment.objects.create(
        organization=organization, created_by=user, module=module, name=name, filters=filters
    )


def test_list_pages_offer_saved_views_with_current_predicates(client, user, organization):
    view = saved(organization, user, "segments", [])
    client.force_login(user)
    response = client.get("/segments/?provider=aws&status=completed")
    assert view in response.context["saved_views"]
    assert response.context["saved_view_predicates"] == [
        {"type": "provider", "id": "aws", "label": "Provider: AWS"},
        {"type": "status", "id": "completed", "label": "Status: Completed"},
    ]
    assert 'id="saved-views"' in response.content.decode()


def test_applying_a_view_restores_its_query(client, user, organization):
    view = saved(
        organization,
        user,
        "segments",
        [
            {"type": "provider", "id": "gcp", "label": "Provider: GCP"},
            {"type": "name", "id": "eu", "label": "Name: eu"},
        ],
    )
    client.force_login(user)
    response = client.get(f"/segments/?saved_view={view.pk}")
    assert response.status_code == 302
    assert response["Location"] == "/segments/?provider=gcp&name=eu"


def test_stale_predicate_is_ignored_with_a_notice(client, user, organization):
    view = saved(
        organization,
        user,
        "segments",
        [
            {"type": "provider", "id": "aws", "label": "Provider: AWS"},
            {"type": "currency", "id": "usd", "label": "Currency: USD"},
        ],
    )
    client.force_login(user)
    response = client.get(f"/segments/?saved_view={view.pk}", follow=True)
    assert response.redirect_chain[0][0] == "/segments/?provider=aws"
    notices = [str(message) for message in response.context["messages"]]
    assert any("Currency: USD" in notice for notice in notices)


def test_view_of_another_module_or_organization_is_refused(
    client, user, organization, other_organization
):
    elsewhere = saved(organization, user, "costs", [])
    foreign = saved(other_organization, None, "segments", [])
    client.force_login(user)
    for view in (elsewhere, foreign):
        response = client.get(f"/segments/?saved_view={view.pk}", follow=True)
        assert response.redirect_chain[-1][0] == "/segments/"
        assert any("does not exist" in str(m) for m in response.context["messages"])


def test_cost_explorer_saves_its_grouping_too(client, user, organization):
    client.force_login(user)
    response = client.get("/costs/?group_by=region&granularity=month&provider=aws")
    types = [p["type"] for p in response.context["saved_view_predicates"]]
    assert {"group_by", "granularity", "provider"} <= set(types)
    view = saved(organization, user, "costs", response.context["saved_view_predicates"])
    restored = client.get(f"/costs/?saved_view={view.pk}")
    assert "group_by=region" in restored["Location"]
    assert "granularity=month" in restored["Location"]


def test_saved_views_page_links_to_each_page(client, user, organization):
    saved(organization, user, "segments", [], name="Seg view")
    saved(organization, user, "metrics", [], name="Metric view")
    client.force_login(user)
    response = client.get("/saved-views/")
    links = {row["view"].name: row["page_url"] for row in response.context["rows"]}
    assert links == {"Seg view": "/segments/", "Metric view": "/metrics/"}
    filtered = client.get("/saved-views/?module=metrics").context["rows"]
    assert [row["view"].name for row in filtered] == ["Metric view"]


def test_admin_lists_filter_segments(db):
    from django.contrib.admin.utils import quote
    from django.test import Client
    from django.urls import reverse

    staff = UserFactory(username="root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    organization = OrganizationFactory(name="Initech")
    view = saved(organization, staff, "integrations", [], name="Quarterly view")
    listing = "/admin/filter_segments/filtersegment/"
    for query in ("Quarterly", "integrations", "Initech", "root"):  # name, module, account, creator
        response = admin.get(f"{listing}?q={query}")
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [view], query
    assert admin.get(f"{listing}?q=nothing-like-it").context["cl"].result_count == 0
    # Through reverse(): the admin escapes "_" in ids (quote), so "seg_dev_24…" spelled raw
    # would be read back as another id for some random suffixes.
    change = reverse("admin:filter_segments_filtersegment_change", args=[quote(view.pk)])
    assert admin.get(change).status_code == 200


# --- the mechanism on every list page --------------------------------------------------------

LIST_PAGES = {
    "segments": "/segments/",
    "costs": "/costs/",
    "integrations": "/integrations/",
    "imports": "/imports/",
    "metrics": "/metrics/",
    "events": "/events/",
    "customers": "/customers/",
    "products": "/products/",
    "saved_views": "/saved-views/",
}


def test_every_list_page_is_in_the_registry():
    from filter_segments.listing import list_page_urls

    # Equal, not included: a new list page must join LIST_PAGES and so the menu test below.
    assert list_page_urls() == LIST_PAGES


@pytest.mark.parametrize("module,path", LIST_PAGES.items())
def test_every_list_page_has_the_menu_outside_its_filter_form(client, user, module, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    assert response.context["saved_views_module"] == module
    html = response.content.decode()
    form = re.search(
        r'<form method="get" class="filter-bar" id="filter-form".*?</form>', html, re.S
    )
    assert form and "saved-views" not in form.group(0)
    assert html.count('id="saved-views"') == 1
    assert f'data-module="{module}"' in html


def test_chips_are_labelled_like_the_saved_predicates_and_apply_round_trips(
    client, user, organization
):
    IntegrationFactory(organization=organization, provider="gcp", name="GCP prod")
    client.force_login(user)
    page = client.get("/integrations/?provider=gcp&name=prod")
    predicates = page.context["saved_view_predicates"]
    chips = [{k: c[k] for k in ("type", "id", "label")} for c in page.context["active_filters"]]
    assert (
        predicates
        == chips
        == [
            {"type": "provider", "id": "gcp", "label": "Provider: GCP"},
            {"type": "name", "id": "prod", "label": "Name: prod"},
        ]
    )
    view = saved(organization, user, "integrations", predicates)
    restored = client.get(f"/integrations/?saved_view={view.pk}", follow=True)
    assert restored.redirect_chain[0][0] == "/integrations/?provider=gcp&name=prod"
    assert restored.context["saved_view_predicates"] == predicates
    assert [i.name for i in restored.context["object_list"]] == ["GCP prod"]


def test_malformed_stored_predicates_are_dropped_not_a_500(client, user, organization):
    view = saved(
        organization,
        user,
        "integrations",
        [
            {"type": "provider", "id": "aws", "label": "Provider: AWS"},
            {"type": "name"},
            "provider=gcp",
        ],
    )
    client.force_login(user)
    response = client.get(f"/integrations/?saved_view={view.pk}", follow=True)
    assert response.redirect_chain[0][0] == "/integrations/?provider=aws"
    assert any("ignored" in str(m) for m in response.context["messages"])


def test_menu_offers_changes_only_to_the_creator_or_an_admin(client, organization, user):
    viewer = UserFactory(username="val")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    alices = saved(organization, user, "integrations", [], name="Alice's")
    vals = saved(organization, viewer, "integrations", [], name="Val's")
    client.force_login(viewer)
    views = {v.name: v.can_change for v in client.get("/integrations/").context["saved_views"]}
    assert views == {"Alice's": False, "Val's": True}
    html = client.get("/integrations/").content.decode()
    item = re.search(rf'data-id="{alices.pk}".*?</li>', html, re.S).group(0)
    assert "data-action" not in item
    item = re.search(rf'data-id="{vals.pk}".*?</li>', html, re.S).group(0)
    assert 'data-action="rename"' in item and 'data-action="delete"' in item
    client.force_login(user)  # an admin may change both
    views = {v.name: v.can_change for v in client.get("/integrations/").context["saved_views"]}
    assert views == {"Alice's": True, "Val's": True}


def test_saved_views_page_filters_mine_and_marks_what_may_change(client, organization, user):
    viewer = UserFactory(username="val")
    MembershipFactory(user=viewer, organization=organization, role=Role.VIEWER)
    saved(organization, user, "integrations", [], name="Alice's")
    saved(organization, viewer, "integrations", [], name="Val's")
    client.force_login(viewer)
    rows = client.get("/saved-views/").context["rows"]
    assert {r["view"].name: r["can_change"] for r in rows} == {"Alice's": False, "Val's": True}
    mine = client.get("/saved-views/?mine=true").context["rows"]
    assert [r["view"].name for r in mine] == ["Val's"]
    searched = client.get("/saved-views/?name=ALICE").context["rows"]
    assert [r["view"].name for r in searched] == ["Alice's"]


def test_saved_views_page_never_shows_another_organization(
    client, user, organization, other_organization
):
    saved(other_organization, None, "integrations", [], name="Theirs")
    client.force_login(user)
    assert client.get("/saved-views/").context["rows"] == []
