"""Forms of the alerts pages; they check the wire format, the services check the rules."""

from __future__ import annotations

from django import forms

from .models import AnomalyStatus, ChannelKind, WatchCondition, WatchSubject


def split_addresses(text: str) -> list[str]:
    return [
        part.strip()
        for part in text.replace(";", ",").replace("\n", ",").split(",")
        if part.strip()
    ]


class FeedbackForm(forms.Form):
    status = forms.ChoiceField(choices=AnomalyStatus.choices)
    feedback = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    expected = forms.BooleanField(
        required=False,
        label="This was expected (raise the threshold of this series)",
    )


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ChannelKind.choices)
    target = forms.CharField(
        max_length=1000, label="URL or email address", help_text="Webhook or Slack URL, or email."
    )


class NotificationForm(forms.Form):
    cost_report = forms.ChoiceField(label="Cost report")
    threshold = forms.IntegerField(
        min_value=0, initial=0, label="Minimum impact", help_text="In the report's currency."
    )
    users = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="People"
    )
    channels = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Channels"
    )

    def __init__(self, *args, reports=(), members=(), channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cost_report"].choices = [(r.token, r.title) for r in reports]
        self.fields["users"].choices = [
            (str(u.pk), f"{u.get_username()} <{u.email}>" if u.email else u.get_username())
            for u in members
        ]
        self.fields["channels"].choices = [(c.name, str(c)) for c in channels]


class WatchForm(forms.Form):
    title = forms.CharField(max_length=255)
    subject = forms.ChoiceField(choices=WatchSubject.choices)
    segment = forms.ChoiceField(required=False)
    metric = forms.ChoiceField(required=False, label="Billable metric")
    condition = forms.ChoiceField(choices=WatchCondition.choices)
    threshold = forms.DecimalField(
        required=False,
        max_digits=28,
        decimal_places=10,
        help_text="Above: the daily value; change: a percentage; anomaly: the minimum impact.",
    )
    emails = forms.CharField(required=False, label="Email recipients", help_text="Comma-separated.")
    channels = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Channels"
    )

    def __init__(self, *args, segments=(), metrics=(), channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", "—")] + [(s.token, s.name) for s in segments]
        self.fields["metric"].choices = [("", "—")] + [
            (m.pk, f"{m.name} ({m.code})") for m in metrics
        ]
        self.fields["channels"].choices = [(c.name, str(c)) for c in channels]
