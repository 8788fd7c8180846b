"""Sync the integrations' sources now: import new or changed deliveries of their exports."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from costs import services
from costs.connectors import sync
from costs.models import Integration


class Command(BaseCommand):
    help = (
        "Pull new or changed FOCUS deliveries from every integration's source (S3, ...) and "
        "import them here, one job per billing period."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organization (uuid).")

    def handle(self, *args, org=None, **options):
        integrations = Integration.objects.filter(source__isnull=False).select_related(
            "organization"
        )
        if org:
            try:
                integrations = integrations.filter(organization__pk=uuid.UUID(org))
            except ValueError:
                raise CommandError(f"Organization '{org}' not found.") from None
        failures = 0
        for integration in integrations:
            try:
                jobs = sync.source_sync(integration, enqueue=False)
            except ServiceError as error:
                failures += 1
                self.stderr.write(f"{integration}: {error.message}")
                continue
            for job in jobs:
                job = services.import_job_run(job)
                self.stdout.write(
                    f"{integration}: {job.filename}: {job.status} "
                    f"({job.rows_written} rows){' ' + job.error if job.error else ''}"
                )
            if not jobs:
                self.stdout.write(f"{integration}: nothing new")
        if failures:
            raise CommandError(f"{failures} source(s) could not be synced.")
