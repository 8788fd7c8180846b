import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.errors import ServiceError
from costs import services
from costs.models import ImportJob, Integration, Provider
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Import FOCUS cost exports (CSV, gzip CSV or Parquet) synchronously; several FILEs are "
        "parts of one export. Creates the integration unless --integration is given. "
        "Last line: the integration id."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization id (uuid).")
        parser.add_argument("--provider", required=True, help="aws, azure or gcp.")
        parser.add_argument("--integration", help="Import into this integration (uuid).")
        parser.add_argument("--name", default="", help="Name of the integration to create.")
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, org, provider, integration, name, files, **options):
        try:
            organization = Organization.objects.get(pk=uuid.UUID(org))
        except (ValueError, Organization.DoesNotExist):
            raise CommandError(f"Organization '{org}' not found.") from None
        if provider not in Provider.values:
            raise CommandError(
                f"Unknown provider '{provider}'; expected one of {', '.join(Provider.values)}."
            )
        paths = [Path(file) for file in files]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"File not found: {path}")
        target = self._integration(organization, provider, integration)
        # All or nothing: a bad file leaves neither rows nor a new integration behind.
        with transaction.atomic():
            created = target is None
            if created:
                try:
                    target = services.integration_create(organization, provider, name)
                except ServiceError as error:
                    raise CommandError(error.message) from error
            job = services.import_job_run(
                services.import_job_create(target, paths=paths, source=ImportJob.Source.COMMAND)
            )
            if job.status != ImportJob.Status.SUCCEEDED:
                transaction.set_rollback(True)
                raise CommandError(job.error)
        if created:
            self.stdout.write(
                f"Created integration '{target.name}' ({provider}) in '{organization.name}'"
            )
        self.stdout.write(
            f"Imported {job.rows_written:,} rows from {len(paths)} file(s) into '{target.name}'; "
            f"replaced {job.rows_replaced:,} rows; billing periods "
            f"{', '.join(job.billing_periods) or 'none'}"
        )
        self.stdout.write(str(target.pk))

    def _integration(self, organization, provider: str, integration_id: str | None):
        if not integration_id:
            return None
        try:
            integration = Integration.objects.get(
                pk=uuid.UUID(integration_id), organization=organization
            )
        except (ValueError, Integration.DoesNotExist):
            raise CommandError(
                f"Integration '{integration_id}' not found in organization '{organization.pk}'."
            ) from None
        if integration.provider != provider:
            raise CommandError(
                f"Integration '{integration_id}' is a {integration.provider} integration, "
                f"not {provider}."
            )
        return integration
