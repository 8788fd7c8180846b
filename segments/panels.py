"""Panels other apps add to the segment page, so that segments never imports them.

A panel is a template rendered on the segment page (after its figures) with the context its
``context(request, segment, monthly_rows, currency)`` returns; metrics adds its unit-cost panel
from ``MetricsConfig.ready``. Registration is explicit and idempotent (by name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    name: str
    template_name: str
    context: Callable[..., dict]


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    _panels[panel.name] = panel
    return panel


def registered() -> list[Panel]:
    """The registered panels, in registration order."""
    return list(_panels.values())
