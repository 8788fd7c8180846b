import datetime
import uuid

from django.core.management.base import BaseCommand, CommandError

from alerts import services
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Run anomaly detection, cost alerts and Costline alerts now (what the daily beat task "
        "and imports do), for one organization or every one with cost data."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--org", help="Organization id (uuid).")
        target.add_argument("--all", action="store_true", help="Every organization with costs.")
        parser.add_argument(
            "--judge-from",
            type=datetime.date.fromisoformat,
            help="Judge days from this one (YYYY-MM-DD; at most 92 days before the latest).",
        )

    def handle(self, org, all, judge_from, **options):
        if all:
            organizations = list(services.organizations_with_costs())
        else:
            try:
                organizations = [Organization.objects.get(pk=uuid.UUID(org))]
            except (ValueError, Organization.DoesNotExist):
                raise CommandError(f"Organization '{org}' not found.") from None
        for organization in organizations:
            found = services.checks_run(organization, judge_from=judge_from)
            summary = ", ".join(f"{name} {count}" for name, count in found.items())
            self.stdout.write(f"{organization.name}: {summary}")
