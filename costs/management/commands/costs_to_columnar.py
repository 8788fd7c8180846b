import uuid

from django.core.management.base import BaseCommand, CommandError

from costs.columnar.legacy import row_store_move
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Move cost rows from the database (the row store of earlier versions) into the columnar "
        "store, one integration's billing period at a time; safe to run again. "
        "Last line: how many rows moved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organization (uuid).")

    def handle(self, org=None, **options):
        if org is not None:
            try:
                org = Organization.objects.get(pk=uuid.UUID(org)).pk
            except (ValueError, Organization.DoesNotExist):
                raise CommandError(f"Organization '{org}' not found.") from None
        result = row_store_move(org, report=self.stdout.write)
        if result.rows_dropped:
            self.stdout.write(
                f"Dropped {result.rows_dropped:,} rows of {len(result.periods_dropped)} billing "
                "period(s) imported again since (the columnar store holds newer rows)"
            )
        self.stdout.write(
            f"Moved {result.rows_moved:,} rows of {len(result.periods_moved)} billing period(s) "
            "to the columnar store"
        )
