"""Saved views on list pages: the menu, applying a view, stale predicates, the saved-views page."""

from filter_segments.models import FilterSegment


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
    from django.test import Client

    from ..factories import UserFactory

    staff = UserFactory(username="root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    assert admin.get("/admin/filter_segments/filtersegment/?q=view").status_code == 200
