"""Demo data: an organization, a person and a token, plus each app's demo content.

Each domain app provides ``<app>/demo.py`` with ``load(organization, user)``; it is called once,
when the demo organization is first created, in the order of ``DEMO_APPS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from alerts import demo as alerts_demo
from budgets import demo as budgets_demo
from business import demo as business_demo
from costs import demo as costs_demo
from metrics import demo as metrics_demo
from organizations import services as org_services
from organizations.models import ApiToken, Organization, Role
from reports import demo as reports_demo
from segments import demo as segments_demo
from virtual_tags import demo as virtual_tags_demo

DEMO_ORGANIZATION = "Demo Co"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
DEMO_TOKEN_NAME = "demo token"
# Called in this order: segments are computed over the cost data.
DEMO_APPS = {
    "costs": costs_demo.load,
    "segments": segments_demo.load,
    "metrics": metrics_demo.load,
    "reports": reports_demo.load,
    "virtual_tags": virtual_tags_demo.load,
    "business": business_demo.load,
    "budgets": budgets_demo.load,
    "alerts": alerts_demo.load,
}


@dataclass
class DemoResult:
    organization: Organization
    created: bool
    token_secret: str
    loaded: list[str]


def demo_load() -> DemoResult:
    """Create the demo tenant once; every call issues a fresh demo token (secrets aren't kept)."""
    user = org_services.user_ensure(DEMO_USERNAME, DEMO_PASSWORD)
    if not user.is_staff:
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    organization = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
    created = organization is None
    loaded: list[str] = []
    if created:
        organization = org_services.organization_create(DEMO_ORGANIZATION, admin_user=user)
        for app, load in DEMO_APPS.items():
            load(organization, user)
            loaded.append(app)
    else:
        org_services.membership_set(organization, user, Role.ADMIN)
    with transaction.atomic():
        for old in ApiToken.objects.active().filter(
            organization=organization, name=DEMO_TOKEN_NAME
        ):
            org_services.api_token_revoke(old)
        _, secret = org_services.api_token_create(
            organization, name=DEMO_TOKEN_NAME, scopes="read,write", created_by=user
        )
    return DemoResult(organization, created, secret, loaded)
