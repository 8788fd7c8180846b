"""Chargeback and showback statements: recorded, written (CSV and PDF) by a Celery task,
e-mailed; and the monthly schedules."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from core import background
from core.errors import ServiceError
from metrics.models import Customer
from reports.models import CostReport
from segments.models import Segment

from .. import statements as rendering
from ..cost_to_serve import CostSource, cost_to_serve, month_range, report_source, segment_source
from ..models import (
    BusinessMetric,
    SourceKind,
    Statement,
    StatementKind,
    StatementSchedule,
)
from .definitions import acting_user
from .live import live_metric_bring_up_to_date

# --------------------------------------------------------------------------- statements

# business.tasks.generate_statement / send_monthly_statements, enqueued by name.
STATEMENT_TASK = "business.generate_statement"


def statement_directory(statement: Statement) -> Path:
    return Path(settings.MEDIA_ROOT) / "business_statements" / statement.token


def _source_of(statement_or_schedule) -> CostSource:
    organization = statement_or_schedule.organization
    token = statement_or_schedule.source_token
    if statement_or_schedule.source_kind == SourceKind.SEGMENT:
        segment = Segment.objects.filter(organization=organization, token=token).first()
        if segment is None:
            raise ServiceError("the segment was deleted.", field="source")
        return segment_source(segment)
    report = CostReport.objects.filter(organization=organization, token=token).first()
    if report is None:
        raise ServiceError("the cost report was deleted.", field="source")
    return report_source(report, timezone.now().date())


def statement_create(
    organization,
    *,
    kind: str,
    month: datetime.date,
    source_kind: str,
    source_token: str,
    source_name: str,
    metric: BusinessMetric,
    customer: Customer | None = None,
    created_by=None,
    email_to: str = "",
) -> Statement:
    """Record a statement and queue the task that writes its CSV and PDF (and mails it)."""
    if kind not in StatementKind.values:
        raise ServiceError(
            f"must be one of {', '.join(StatementKind.values)}.", field="kind", code="invalid"
        )
    if source_kind not in SourceKind.values:
        raise ServiceError("must be segment or report.", field="source", code="invalid")
    if metric.organization_id != organization.pk:
        raise ServiceError("Business metric not found.", field="metric")
    if customer is not None and customer.organization_id != organization.pk:
        raise ServiceError("Customer not found.", field="customer")
    statement = Statement.objects.create(
        organization=organization,
        kind=kind,
        month=month.replace(day=1),
        source_kind=source_kind,
        source_token=source_token,
        source_name=source_name,
        metric=metric,
        customer=customer,
        created_by=acting_user(created_by),
        emailed_to=email_to,
    )
    transaction.on_commit(lambda: background.task(STATEMENT_TASK).delay(statement.pk))
    return statement


def statement_generate(statement_id: int) -> Statement | None:
    """Compute a statement's month and write ``statement.csv`` and ``statement.pdf``; mail them
    to ``emailed_to`` when set. Safe to run twice: a finished statement is left as it is."""
    statement = (
        Statement.objects.select_related("organization", "metric", "customer")
        .filter(pk=statement_id)
        .first()
    )
    if statement is None or statement.status != Statement.Status.PENDING:
        return statement
    try:
        if statement.metric is None:
            raise ServiceError("the business metric was deleted.", field="metric")
        start, end = month_range(statement.month)
        live_metric_bring_up_to_date(statement.metric, start, end)
        split = cost_to_serve(_source_of(statement), statement.metric, start, end)
        content = rendering.content_of(
            split, statement.kind, statement.customer.external_id if statement.customer else None
        )
        directory = statement_directory(statement)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "statement.csv").write_text(rendering.render_csv(content), encoding="utf-8")
        (directory / "statement.pdf").write_bytes(rendering.render_pdf(content))
        statement.files = ["statement.csv", "statement.pdf"]
        statement.total = content.total
        statement.currency = split.currency
        statement.status = Statement.Status.COMPLETED
    except ServiceError as error:
        statement.status = Statement.Status.FAILED
        statement.error = error.message
    statement.completed_at = timezone.now()
    statement.save(update_fields=["files", "total", "currency", "status", "error", "completed_at"])
    if statement.status == Statement.Status.COMPLETED and statement.emailed_to:
        statement_email(statement, content.title)
    return statement


def statement_email(statement: Statement, subject: str) -> None:
    """Mail a finished statement, its CSV and PDF attached (Django's mail backend)."""
    directory = statement_directory(statement)
    message = EmailMessage(
        subject=subject,
        body=(
            f"Attached: the {statement.kind} statement for {statement.month:%B %Y} "
            f"({statement.source_name}), total {statement.total} {statement.currency}.\n"
        ),
        to=[address for address in statement.emailed_to.split(",") if address],
    )
    message.attach("statement.csv", (directory / "statement.csv").read_bytes(), "text/csv")
    message.attach("statement.pdf", (directory / "statement.pdf").read_bytes(), "application/pdf")
    message.send()


def statements_send_monthly(today: datetime.date | None = None) -> int:
    """For every active schedule not yet sent for the month just ended: queue its statements
    (the source's, and each customer's when asked), mailed when written. Returns how many."""
    today = today or timezone.now().date()
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    queued = 0
    schedules = StatementSchedule.objects.filter(active=True).select_related(
        "organization", "metric"
    )
    for schedule in schedules.exclude(last_month_sent__gte=month):
        with transaction.atomic():
            try:
                source = _source_of(schedule)
            except ServiceError:
                continue
            common = {
                "kind": schedule.kind,
                "month": month,
                "source_kind": schedule.source_kind,
                "source_token": schedule.source_token,
                "source_name": source.name,
                "metric": schedule.metric,
            }
            recipients = ",".join(schedule.recipient_list)
            statement_create(schedule.organization, **common, email_to=recipients)
            queued += 1
            if schedule.per_customer:
                start, end = month_range(month)
                for line in cost_to_serve(source, schedule.metric, start, end).customers:
                    statement_create(
                        schedule.organization,
                        **common,
                        customer=line.customer,
                        email_to=line.customer.email or recipients,
                    )
                    queued += 1
            schedule.last_month_sent = month
            schedule.save(update_fields=["last_month_sent"])
    return queued
