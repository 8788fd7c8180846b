"""Chargeback and showback statements: the rows of a month's cost-to-serve split, as CSV and as
a PDF (HTML rendered by WeasyPrint, from ``templates/business/statement_pdf.html``).

A statement of a whole source lists every customer, then the unattributed and idle lines, and
its total is the source's cost for the month (the lines add up to it, to the cent). A
customer's statement lists that customer's line, with the source's total for context.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string

from .cost_to_serve import CostToServe, Line

CSV_COLUMNS = (
    "month",
    "source",
    "line",
    "external_id",
    "usage",
    "usage_share_percent",
    "cost_to_serve",
    "currency",
    "unit_cost",
    "revenue",
    "gross_margin",
)


@dataclass
class StatementContent:
    title: str
    kind: str
    split: CostToServe
    lines: list[Line]
    customer_name: str | None = None

    @property
    def total(self) -> Decimal:
        """What the statement adds up to: the source's total, or the customer's line."""
        return sum((line.cost for line in self.lines), Decimal(0))

    @property
    def usage_total(self) -> Decimal:
        return sum((line.usage for line in self.split.lines), Decimal(0))

    def share(self, line: Line) -> Decimal | None:
        total = self.usage_total
        return (line.usage / total * 100).quantize(Decimal("0.01")) if total else None

    @property
    def rows(self) -> list[dict]:
        return [{"line": line, "share": self.share(line)} for line in self.lines]


def content_of(split: CostToServe, kind: str, external_id: str | None) -> StatementContent:
    month = split.start.strftime("%B %Y")
    if external_id is None:
        return StatementContent(
            f"{kind.capitalize()} statement · {split.source.name} · {month}",
            kind,
            split,
            list(split.lines),
        )
    line = split.line_of(external_id)
    name = line.name if line else external_id
    return StatementContent(
        f"{kind.capitalize()} statement · {name} · {month}",
        kind,
        split,
        [line] if line else [],
        name,
    )


def _text(value) -> str:
    return "" if value is None else str(value)


def render_csv(content: StatementContent) -> str:
    """One row per line, then the total row; amounts as exact decimals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    split = content.split
    month = split.start.strftime("%Y-%m")
    for line in content.lines:
        writer.writerow(
            [
                month,
                split.source.name,
                line.name,
                line.key if line.is_customer else "",
                _text(line.usage.normalize() if line.usage else line.usage),
                _text(content.share(line)),
                _text(line.cost),
                split.currency,
                _text(line.unit_cost.quantize(Decimal("1e-10")) if line.unit_cost else None),
                _text(line.revenue),
                _text(line.gross_margin),
            ]
        )
    writer.writerow(
        [month, split.source.name, "Total", "", "", "", content.total, split.currency] + [""] * 3
    )
    return out.getvalue()


def render_html(content: StatementContent) -> str:
    return render_to_string("business/statement_pdf.html", {"statement": content})


def render_pdf(content: StatementContent) -> bytes:
    from weasyprint import HTML  # heavy: loaded only by the task that writes PDFs

    return HTML(string=render_html(content)).write_pdf()
