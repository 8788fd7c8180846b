import uuid

from django.core.management.base import BaseCommand, CommandError

from costs.models import Provider
from organizations.models import Organization
from segments import services
from segments.models import Segment, Status


class Command(BaseCommand):
    help = "Recompute every segment tree's metrics of an organization, synchronously."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization id (uuid).")
        parser.add_argument("--provider", choices=Provider.values, help="Only trees of it.")

    def handle(self, org, provider=None, **options):
        try:
            organization = Organization.objects.get(pk=uuid.UUID(org))
        except (ValueError, Organization.DoesNotExist):
            raise CommandError(f"Organization '{org}' not found.") from None
        refreshed = services.organization_refresh(organization, provider)
        for top in refreshed:
            self.stdout.write(f"Refreshed '{top.name}' ({top.token})")
        failed = Segment.objects.filter(organization=organization, status=Status.FAILED).count()
        self.stdout.write(
            f"Refreshed {len(refreshed)} segment tree(s) of '{organization}'; {failed} failed"
        )
        if failed:
            raise CommandError(f"{failed} segment(s) failed; see their status_reason.")
