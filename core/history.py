"""Who made a change, for the audit histories (django-simple-history).

The history middleware keeps the request; an API request's user is then the token's stand-in
(not a person), so only a signed-in person is recorded. An explicit ``instance._history_user``
(what a service was told) wins, as django-simple-history does by default."""

import uuid

from django.contrib.auth import get_user_model

from .params import utc_timestamp


def history_user(instance=None, request=None, **kwargs):
    explicit = getattr(instance, "_history_user", None)
    if explicit is not None:
        return explicit
    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) else None


def changes(records, fields: list[str]) -> list[dict]:
    """A history (oldest record first) as changes, newest first: when, who, what kind, the
    ``fields`` before and after, and the money the change moved (``money_moved``)."""
    result, before = [], None
    for record in records:
        after = {name: _plain(getattr(record, name)) for name in fields}
        user = record.history_user
        result.append(
            {
                "at": utc_timestamp(record.history_date),
                "by": user.get_username() if user is not None else None,
                "change": {"+": "created", "~": "updated", "-": "deleted"}[record.history_type],
                "before": before,
                "after": after,
                "money_moved": record.money_moved,
            }
        )
        before = after
    return result[::-1]


def _plain(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else value
