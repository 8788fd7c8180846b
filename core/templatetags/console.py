"""How the pages write numbers and structured values: money with its currency at one precision,
percentages with their sign, and JSON values (event properties, segmentation rules, filters) as
readable chips and lists instead of Python's dict text.

``{% load console %}`` then ``{{ amount|money:currency }}``, ``{{ ratio|percent }}``,
``{{ value|structured }}``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Currencies written with a symbol before the amount; any other code follows the amount.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
MINUS = "−"  # U+2212, the minus sign (a hyphen reads as a dash in a column of figures)


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def grouped(amount: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{abs(amount.quantize(quantum, rounding=ROUND_HALF_UP)):,.{places}f}"


def _with_currency(figures: str, negative: bool, currency: str | None) -> str:
    sign = MINUS if negative and figures.strip("0.,") else ""
    currency = (currency or "").upper()
    if currency in SYMBOLS:
        return f"{sign}{SYMBOLS[currency]}{figures}"
    return f"{sign}{figures} {currency}".strip()


@register.filter
def money(value, currency: str | None = "USD") -> str:
    """``1234.5|money:"USD"`` → ``$1,234.50``; ``…|money:"CHF"`` → ``1,234.50 CHF``; two
    decimals always, a true minus sign, ``–`` for no value."""
    amount = _decimal(value)
    if amount is None:
        return "–"
    return _with_currency(grouped(amount, 2), amount < 0, currency)


@register.filter
def unit_money(value, currency: str | None = "USD") -> str:
    """A unit cost: like ``money``, with up to six decimals below one (a cost per request is
    often a fraction of a cent)."""
    amount = _decimal(value)
    if amount is None:
        return "–"
    whole, _, fraction = grouped(amount, 2 if abs(amount) >= 1 else 6).partition(".")
    return _with_currency(f"{whole}.{fraction.rstrip('0').ljust(2, '0')}", amount < 0, currency)


@register.filter
def percent(value, places: int = 1) -> str:
    """``12.345|percent`` → ``+12.3%``: the sign always shown, so a change reads as one."""
    number = _decimal(value)
    if number is None:
        return "–"
    text = grouped(number, int(places))
    if number > 0:
        return f"+{text}%"
    if number < 0 and text.strip("0.") != "":
        return f"{MINUS}{text}%"
    return f"{text}%"


@register.filter
def share(value, places: int = 0) -> str:
    """A fraction as a percentage: ``0.875|share`` → ``88%``."""
    number = _decimal(value)
    if number is None:
        return "–"
    return f"{grouped(number * 100, int(places))}%"


def _scalar(value) -> str:
    if value is None:
        return "none"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _render(value, depth: int = 0) -> SafeString:
    if isinstance(value, dict):
        if not value:
            return mark_safe('<span class="muted">none</span>')
        items = format_html_join(
            "",
            '<li class="kv"><span class="kv-key">{}:</span> {}</li>',
            ((key, _render(item, depth + 1)) for key, item in value.items()),
        )
        return format_html('<ul class="kv-list depth-{}">{}</ul>', min(depth, 3), items)
    if isinstance(value, list | tuple):
        if not value:
            return mark_safe('<span class="muted">none</span>')
        if all(not isinstance(item, dict | list | tuple) for item in value):
            return format_html_join(
                " ", '<span class="chip value">{}</span>', ((_scalar(item),) for item in value)
            )
        return format_html(
            '<ol class="kv-items">{}</ol>',
            format_html_join("", "<li>{}</li>", ((_render(item, depth + 1),) for item in value)),
        )
    return format_html('<span class="kv-value">{}</span>', _scalar(value))


@register.filter
def structured(value) -> SafeString:
    """A JSON value as nested key/value lists and value chips (never ``{'a': 1}``)."""
    return _render(value)


@register.filter
def chips(value) -> SafeString:
    """A flat mapping (event properties) as ``key value`` chips on one line."""
    if not isinstance(value, dict) or not value:
        return _render(value)
    return format_html_join(
        " ",
        '<span class="chip kv-chip"><span class="kv-key">{}:</span> {}</span>',
        (
            (key, _scalar(item) if not isinstance(item, dict | list) else _render(item))
            for key, item in value.items()
        ),
    )
