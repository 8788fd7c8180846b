"""The weekly digest: one email per member, figures from the week, never twice for one week."""

import datetime
import re
from decimal import Decimal

from alerts import anomalies, digest
from alerts.tasks import send_weekly_digests
from organizations.models import Role

from ..factories import MembershipFactory, UserFactory
from .data import all_costs_report, days, ec2_cost, s3_cost, write_costs

MONDAY = datetime.date(2026, 9, 21)  # the digest of 14–20 September, the spike's week


def test_last_full_week_is_monday_to_sunday():
    assert digest.last_full_week(MONDAY) == (datetime.date(2026, 9, 14), datetime.date(2026, 9, 20))
    assert digest.last_full_week(datetime.date(2026, 9, 23))[0] == datetime.date(2026, 9, 14)


def test_each_member_gets_one_digest_with_the_weeks_figures(
    organization, user, smtp_server, django_capture_on_commit_callbacks
):
    user.email = "alice@example.com"
    user.save()
    bob = UserFactory(username="bob", email="bob@example.com")
    MembershipFactory(user=bob, organization=organization, role=Role.VIEWER)
    MembershipFactory(user=UserFactory(username="noemail", email=""), organization=organization)
    write_costs(organization)
    all_costs_report(organization)
    anomalies.anomalies_detect(organization, judge_from=datetime.date(2026, 9, 1), notify=False)

    with django_capture_on_commit_callbacks(execute=True):
        sent = digest.digest_send(organization, MONDAY)
        again = digest.digest_send(organization, MONDAY)

    assert [d.id for d in sent] == [d.id for d in again]
    assert sorted(message["To"] for message in smtp_server.messages) == [
        "alice@example.com",
        "bob@example.com",
    ]
    body = smtp_server.messages[0].get_payload()
    week = list(days(datetime.date(2026, 9, 14), datetime.date(2026, 9, 20)))
    before = list(days(datetime.date(2026, 9, 7), datetime.date(2026, 9, 13)))
    current = sum(ec2_cost(d) + s3_cost(d) for d in week)
    previous = sum(ec2_cost(d) + s3_cost(d) for d in before)
    spend = re.search(r"Spend: USD ([\d,.]+) against USD ([\d,.]+)", body)
    assert Decimal(spend.group(1).replace(",", "")) == current
    assert Decimal(spend.group(2).replace(",", "")) == previous
    assert "Anomalies this week (3 largest)" in body
    assert "AmazonEC2 (aws) in All costs" in body
    assert "Open anomalies: 3." in body


def test_a_quiet_organization_gets_no_digest(organization, user, smtp_server):
    user.email = "alice@example.com"
    user.save()
    assert digest.digest_send(organization, MONDAY) == []
    assert send_weekly_digests.apply().get() == 0
    assert smtp_server.messages == []


def test_a_member_who_turned_it_off_gets_none(
    organization, user, smtp_server, django_capture_on_commit_callbacks
):
    from django.test import Client

    user.email = "alice@example.com"
    user.save()
    bob = UserFactory(username="bob", email="bob@example.com")
    MembershipFactory(user=bob, organization=organization, role=Role.VIEWER)
    write_costs(organization)
    client = Client()
    client.force_login(bob)
    assert (
        "checked" in client.get("/alerts/settings/").content.decode().split('id="digest"')[1][:600]
    )
    client.post("/alerts/settings/digest/", {})  # unchecked: off
    assert not digest.digest_subscribed(bob, organization)

    with django_capture_on_commit_callbacks(execute=True):
        digest.digest_send(organization, MONDAY)

    assert [message["To"] for message in smtp_server.messages] == ["alice@example.com"]
    client.post("/alerts/settings/digest/", {"weekly_digest": "on"})
    assert digest.digest_subscribed(bob, organization)
