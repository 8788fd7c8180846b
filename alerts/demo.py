"""Demo alerts: anomalies found in the demo cost history (the inbox is not empty), an anomaly
notification on the AWS report and a Costline alert on a segment's daily cost."""

from decimal import Decimal

from reports.models import CostReport
from segments.models import Segment

from . import services, watches


def load(organization, user) -> None:
    report = CostReport.objects.get(organization=organization, title="AWS by service")
    services.anomaly_notification_create(
        organization, cost_report=report, threshold=10, user_ids=[user.pk]
    )
    segment = Segment.objects.filter(organization=organization, parent__isnull=False).first()
    if segment is not None:
        watches.watch_create(
            organization,
            title=f"{segment.name} above $500 a day",
            subject="segment_cost",
            segment=segment,
            condition="above",
            threshold=Decimal("500"),
        )
    services.checks_run(organization)
