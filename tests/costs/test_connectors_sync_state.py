"""A source that cannot be read, seen from every place a sync runs or is shown: the scheduled
sync (beat), the command, the admin and the integrations page keep and show its error; the
secret is shown nowhere."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from costs import tasks
from costs.connectors import sync
from costs.models import IntegrationSource

from .emulators import free_port, isolate_cloud_credentials

SECRET = "do-not-show-this-secret-key"


@pytest.fixture(autouse=True)
def no_machine_credentials(monkeypatch, tmp_path):
    isolate_cloud_credentials(monkeypatch, tmp_path / "home")


@pytest.fixture
def unreachable(aws_integration):
    """An S3 source whose endpoint nothing listens on."""
    sync.source_save(
        aws_integration,
        {
            "type": "s3",
            "bucket": "billing",
            "prefix": "focus",
            "region": "us-east-1",
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
            "access_key_id": "AKIASTATE",
            "secret_access_key": SECRET,
        },
    )
    return aws_integration


def test_the_scheduled_sync_keeps_the_error_and_waits_for_the_next_run(unreachable):
    assert sync.sources_due() == [unreachable.pk]
    assert tasks.sync_due_sources() == 1  # queued (eager in tests: it ran)
    source = IntegrationSource.objects.get(integration=unreachable)
    assert "Could not connect to the endpoint URL" in source.last_error
    assert source.last_checked_at is not None
    assert source.next_run_at > timezone.now()  # not retried every minute
    assert sync.sources_due() == []
    assert tasks.sync_integration_source(str(unreachable.pk)) == 0


def test_the_command_reports_the_source_it_could_not_sync(unreachable, organization):
    err = StringIO()
    with pytest.raises(CommandError, match="1 source"):
        call_command("sync_integrations", "--org", str(organization.pk), stderr=err)
    assert "Could not connect to the endpoint URL" in err.getvalue()
    with pytest.raises(CommandError, match="not found"):
        call_command("sync_integrations", "--org", "not-an-organization")


def test_admin_shows_the_sync_state_and_never_the_secret(admin_client, unreachable):
    with pytest.raises(sync.SourceError):
        sync.source_sync(unreachable, enqueue=False)
    source = IntegrationSource.objects.get(integration=unreachable)
    html = admin_client.get(f"/admin/costs/integration/{unreachable.pk}/change/").content.decode()
    assert "Could not connect to the endpoint URL" in html
    for label in ("Last checked at", "Last imported delivery", "Next run at", "Last error"):
        assert label in html
    assert SECRET not in html and source.secrets not in html


def test_the_integrations_page_shows_the_error_and_never_the_secret(client, user, unreachable):
    with pytest.raises(sync.SourceError):
        sync.source_sync(unreachable, enqueue=False)
    client.force_login(user)
    html = client.get("/integrations/").content.decode()
    assert "Sync error" in html and "Could not connect to the endpoint URL" in html
    assert SECRET not in html
