"""Statements: written by the Celery task as CSV and PDF, reconciled to the segment's total,
downloadable, e-mailed monthly."""

from __future__ import annotations

import csv
import datetime
import io
import re
import zlib
from decimal import Decimal

import duckdb
import pytest
from django.core import mail

from business import services, statements
from business.cost_to_serve import cost_to_serve, month_range, segment_source
from business.models import SourceKind, Statement, StatementSchedule

from ..segments.conftest import committed, vql_segment
from .test_cost_to_serve import generated_usage

pytestmark = pytest.mark.django_db

AUGUST = datetime.date(2026, 8, 1)


@pytest.fixture
def setup(organization, imported, api_calls):
    generated_usage(organization, customers=12, events=300, seed=5)
    with committed():
        metric = services.business_metric_create(
            organization,
            title="API calls",
            billable_metric=api_calls,
            label_dimension="customer",
            price_per_unit="0.01",
        )
    segment = vql_segment(organization, "AWS", "costs.provider = 'aws'")
    return segment, metric


def make(organization, segment, metric, customer=None, kind="chargeback", email_to=""):
    with committed():
        statement = services.statement_create(
            organization,
            kind=kind,
            month=AUGUST,
            source_kind=SourceKind.SEGMENT,
            source_token=segment.token,
            source_name=segment.name,
            metric=metric,
            customer=customer,
            email_to=email_to,
        )
    statement.refresh_from_db()
    return statement


def csv_rows(statement) -> list[dict]:
    path = services.statement_directory(statement) / "statement.csv"
    return list(csv.DictReader(io.StringIO(path.read_text())))


def pdf_objects(data: bytes) -> bytes:
    """The file with every Flate stream inflated (PDF 1.7 packs objects into streams)."""
    inflated = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            inflated.append(zlib.decompressobj().decompress(data[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(inflated)


def pdf_page_count(data: bytes) -> int:
    """Page objects (``/Type /Page``, not ``/Pages``) among the file's objects."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf_objects(data)))


def test_segment_statement_reconciles_to_the_segments_cost(organization, imported, setup):
    segment, metric = setup
    statement = make(organization, segment, metric)
    assert statement.status == Statement.Status.COMPLETED, statement.error
    rows = csv_rows(statement)
    *lines, total_row = rows
    assert total_row["line"] == "Total"
    # The lines add up to the total, to the cent, and the total is the segment's August cost
    # as DuckDB sums it from the FOCUS file.
    assert sum(Decimal(row["cost_to_serve"]) for row in lines) == Decimal(
        total_row["cost_to_serve"]
    )
    august_cost = duckdb.sql(
        f"""
        SELECT sum(CAST(EffectiveCost AS DECIMAL(38, 10)))
        FROM read_csv('{imported}', all_varchar=true, header=true)
        WHERE coalesce(ChargeClass, '') <> 'Correction' AND ChargeCategory <> 'Credit'
          AND substr(ChargePeriodStart, 1, 7) = '2026-08'
        """
    ).fetchall()[0][0]
    assert Decimal(total_row["cost_to_serve"]) == august_cost.quantize(Decimal("0.01"))
    assert statement.total == Decimal(total_row["cost_to_serve"])
    assert {row["line"] for row in lines} >= {"Idle (no metered usage)", "Unattributed usage"}


def test_customer_statements_and_remainder_add_up_to_the_segment_statement(
    organization, imported, setup
):
    segment, metric = setup
    whole = make(organization, segment, metric)
    split = cost_to_serve(segment_source(segment), metric, *month_range(AUGUST))
    per_customer = [
        make(organization, segment, metric, customer=line.customer, kind="showback")
        for line in split.customers
    ]
    assert all(s.status == Statement.Status.COMPLETED for s in per_customer)
    remainder = sum(line.cost for line in split.remainder)
    assert sum(s.total for s in per_customer) + remainder == whole.total
    one = csv_rows(per_customer[0])
    assert one[0]["external_id"] == per_customer[0].customer.external_id
    assert Decimal(one[0]["revenue"]) == (Decimal(one[0]["usage"]) * Decimal("0.01")).quantize(
        Decimal("0.01")
    )


def test_the_pdf_is_a_real_pdf_with_the_statements_text(organization, imported, setup):
    segment, metric = setup
    statement = make(organization, segment, metric)
    data = (services.statement_directory(statement) / "statement.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert pdf_page_count(data) >= 1
    # The text laid out on its pages, read back from WeasyPrint's own rendering.
    split = cost_to_serve(segment_source(segment), metric, *month_range(AUGUST))
    content = statements.content_of(split, "chargeback", None)
    from weasyprint import HTML

    document = HTML(string=statements.render_html(content)).render()
    assert len(document.pages) == pdf_page_count(data)

    def texts(box):
        if hasattr(box, "text"):
            yield box.text
        for child in getattr(box, "children", []):
            yield from texts(child)

    text = " ".join(t for page in document.pages for t in texts(page._page_box))
    assert "Chargeback statement" in text
    assert str(split.total) in text
    assert split.customers[0].name in text
    # The pages draw text: their content streams show glyphs (BT ... Tj/TJ ... ET).
    objects = pdf_objects(data)
    assert b"BT" in objects and (b"TJ" in objects or b"Tj" in objects)


def test_monthly_schedule_mails_the_statements_once(organization, imported, setup, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    segment, metric = setup
    StatementSchedule.objects.create(
        organization=organization,
        source_kind=SourceKind.SEGMENT,
        source_token=segment.token,
        metric=metric,
        recipients="finance@example.com, cto@example.com",
    )
    with committed():
        assert services.statements_send_monthly(today=datetime.date(2026, 9, 3)) == 1
    with committed():
        assert services.statements_send_monthly(today=datetime.date(2026, 9, 20)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["finance@example.com", "cto@example.com"]
    assert "August 2026" in message.subject
    names = [attachment[0] for attachment in message.attachments]
    assert names == ["statement.csv", "statement.pdf"]
    assert message.attachments[1][1].startswith(b"%PDF-")


def test_a_statement_of_a_deleted_segment_fails_visibly(organization, imported, setup):
    segment, metric = setup
    with committed():
        statement = services.statement_create(
            organization,
            kind="showback",
            month=AUGUST,
            source_kind=SourceKind.SEGMENT,
            source_token="fltr_sgmt_gone",
            source_name="Gone",
            metric=metric,
        )
    statement.refresh_from_db()
    assert statement.status == Statement.Status.FAILED
    assert "deleted" in statement.error
