"""Reports, folders, saved filters and exports in the admin: lists and pages open, filters shown
as VQL."""

import pytest
from django.test import Client

from reports import services
from reports.models import DataExport
from segments.filter_tree import parse_vql


@pytest.fixture
def staff(user):
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_and_pages(staff, organization, settings):
    settings.AXES_ENABLED = False
    workspace = organization.default_workspace
    saved = services.saved_filter_create(
        organization,
        workspace=workspace,
        title="AWS",
        filter_tree=parse_vql("costs.provider = 'aws'"),
    )
    folder = services.folder_create(
        organization, workspace=workspace, title="Platform", saved_filters=[saved]
    )
    report = services.cost_report_create(
        organization, workspace=workspace, title="Monthly", folder=folder, saved_filters=[saved]
    )
    export = DataExport.objects.create(organization=organization, files=["costs.csv"])
    for model, obj in (
        ("savedfilter", saved),
        ("folder", folder),
        ("costreport", report),
        ("dataexport", export),
    ):
        listed = staff.get(f"/admin/reports/{model}/")
        assert listed.status_code == 200, model
        page = staff.get(f"/admin/reports/{model}/{obj.pk}/change/")
        assert page.status_code == 200, model
    assert (
        "costs.provider = &#x27;aws&#x27;"
        in staff.get(f"/admin/reports/savedfilter/{saved.pk}/change/").content.decode()
    )
    assert staff.get("/admin/reports/dataexport/add/").status_code == 403
