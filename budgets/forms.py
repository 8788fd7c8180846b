"""Forms of the budget pages: a budget (what it tracks, its periods or its children) and an alert.

Periods are typed one per line (``2026-09-01 2026-09-30 3000``; the end may be left out for a
month), or made from a monthly amount over a number of months. The rules (no overlap, amounts
of zero or more) are the services'; their errors come back on the field they name.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms

from . import selectors, services
from .models import AlertBasis, PeriodToTrack

NOTHING = ""
CHILDREN = "children"


def period_lines(periods) -> str:
    return "\n".join(
        f"{start.isoformat()} {end.isoformat()} {amount.normalize():f}"
        for start, end, amount in periods
    )


class BudgetForm(forms.Form):
    name = forms.CharField(max_length=255)
    tracks = forms.ChoiceField(
        label="Tracks",
        help_text="A cost report, a segment, or the sum of child budgets.",
    )
    children = forms.MultipleChoiceField(
        label="Child budgets",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Used when Tracks is “Child budgets”: their periods and costs add up.",
    )
    periods = forms.CharField(
        label="Periods",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-09-01 2026-09-30 3000"}),
        help_text="One per line: start, end (optional: the end of the month) and amount.",
    )
    monthly_amount = forms.DecimalField(
        label="Or: monthly amount", required=False, min_value=0, decimal_places=2
    )
    first_month = forms.DateField(
        label="From the month of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    months = forms.IntegerField(
        label="For this many months", required=False, min_value=1, max_value=services.MAX_PERIODS
    )

    def __init__(self, *args, reports=(), segments=(), budgets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.reports = {f"report:{report.token}": report for report in reports}
        self.segments = {f"segment:{segment.report_token}": segment for segment in segments}
        self.budgets = {budget.token: budget for budget in budgets}
        self.fields["tracks"].choices = [
            (NOTHING, "Nothing yet"),
            ("Cost reports", [(key, r.title) for key, r in self.reports.items()]),
            ("Segments", [(key, s.name) for key, s in self.segments.items()]),
            (CHILDREN, "Child budgets (hierarchical)"),
        ]
        self.fields["children"].choices = [(b.token, b.name) for b in budgets]

    @staticmethod
    def initial_of(budget) -> dict:
        if budget.children.exists():
            tracks = CHILDREN
        elif budget.cost_report_id:
            tracks = f"report:{budget.cost_report.token}"
        elif budget.segment_id:
            tracks = f"segment:{budget.segment.report_token}"
        else:
            tracks = NOTHING
        return {
            "name": budget.name,
            "tracks": tracks,
            "children": [child.token for child in budget.children.all()],
            "periods": period_lines(selectors.budget_periods(budget)) if tracks != CHILDREN else "",
        }

    def clean_periods(self) -> list[services.PeriodInput]:
        parsed = []
        for number, line in enumerate(self.cleaned_data["periods"].splitlines(), start=1):
            parts = line.replace(",", " ").split()
            if not parts:
                continue
            if len(parts) not in (2, 3):
                raise forms.ValidationError(
                    f"line {number}: write start, end (optional) and amount, e.g. "
                    "“2026-09-01 2026-09-30 3000”."
                )
            try:
                start = date.fromisoformat(parts[0])
                end = date.fromisoformat(parts[1]) if len(parts) == 3 else None
                amount = Decimal(parts[-1])
            except (ValueError, InvalidOperation):
                raise forms.ValidationError(
                    f"line {number}: dates are YYYY-MM-DD and the amount a number."
                ) from None
            parsed.append(services.PeriodInput(start, end, amount))
        return parsed

    def clean(self):
        data = super().clean()
        monthly = data.get("monthly_amount")
        if monthly is not None and not data.get("periods"):
            if not data.get("first_month") or not data.get("months"):
                self.add_error("first_month", "Give the first month and the number of months.")
            else:
                first = data["first_month"].replace(day=1)
                data["periods"] = [
                    services.PeriodInput(selectors.add_months(first, n), None, monthly)
                    for n in range(data["months"])
                ]
        if data.get("tracks") == CHILDREN and not data.get("children"):
            self.add_error("children", "Choose at least one child budget.")
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        tracks = data["tracks"]
        children = [self.budgets[token] for token in data["children"]] if tracks == CHILDREN else []
        return {
            "name": data["name"],
            "cost_report": self.reports.get(tracks),
            "segment": self.segments.get(tracks),
            "children": children,
            "periods": data.get("periods") or [],
        }


class BudgetAlertForm(forms.Form):
    threshold = forms.IntegerField(
        min_value=1,
        max_value=services.MAX_THRESHOLD,
        initial=80,
        help_text="Percent of the period's budget the actual costs must reach.",
    )
    basis = forms.ChoiceField(
        label="Fires when",
        choices=AlertBasis.choices,
        initial=AlertBasis.ACTUAL,
        help_text="The forecast speaks first: it fires when the period is heading there.",
    )
    recipients = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="Emailed when it fires."
    )
    recipient_channels = forms.MultipleChoiceField(
        label="Channels",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every enabled channel of the organization.",
    )
    duration_in_days = forms.IntegerField(
        label="Only in these days of the month",
        required=False,
        min_value=1,
        max_value=31,
        help_text="Empty: the whole month.",
    )
    period_to_track = forms.ChoiceField(
        label="Counted from",
        choices=[
            (PeriodToTrack.START_OF_THE_MONTH, "the start of the month"),
            (PeriodToTrack.END_OF_THE_MONTH, "the end of the month"),
        ],
        initial=PeriodToTrack.START_OF_THE_MONTH,
    )

    def __init__(self, *args, members=(), channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {str(user.pk): user for user in members}
        self.fields["recipients"].choices = [
            (
                str(user.pk),
                f"{user.get_username()} <{user.email}>" if user.email else user.get_username(),
            )
            for user in members
        ]
        if channels:
            self.fields["recipient_channels"].choices = [(c.name, str(c)) for c in channels]
        else:
            # No channel to choose: deliveries go to the people (and any channel added later).
            del self.fields["recipient_channels"]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "threshold": data["threshold"],
            "basis": data["basis"],
            "recipients": [self.members[pk] for pk in data["recipients"]],
            "recipient_channels": data.get("recipient_channels", []),
            "duration_in_days": data["duration_in_days"],
            "period_to_track": data["period_to_track"],
        }
