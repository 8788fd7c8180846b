"""Signals other apps listen to (the segments engine refreshes what an import touched).

``integration_created``: sent with ``integration`` when an organization gets a new integration.
``focus_import_completed``: sent after an import has committed, with ``organization_id``,
``provider``, ``integration_id`` and ``months`` (first days of the charge months whose costs
changed, old and new).
"""

from django.dispatch import Signal

integration_created = Signal()
focus_import_completed = Signal()
