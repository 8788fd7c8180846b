import uuid

from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from organizations import services
from organizations.models import Organization, Workspace


class Command(BaseCommand):
    help = "Create an API token; last line: the token secret (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization id (uuid).")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", default="read", help="Comma-separated: read,write.")
        parser.add_argument(
            "--workspace",
            action="append",
            default=[],
            help="Restrict to this workspace token (repeatable).",
        )

    def handle(self, org, name, scopes, workspace, **options):
        try:
            organization = Organization.objects.get(pk=uuid.UUID(org))
        except (ValueError, Organization.DoesNotExist):
            raise CommandError(f"Organization '{org}' not found.") from None
        workspaces = list(Workspace.objects.filter(organization=organization, token__in=workspace))
        missing = sorted(set(workspace) - {w.token for w in workspaces})
        if missing:
            raise CommandError(f"Workspace '{missing[0]}' not found in this organization.")
        try:
            token, secret = services.api_token_create(
                organization, name=name, scopes=scopes, workspaces=workspaces
            )
        except ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Created token '{token.name}' ({token.display_id}) for '{organization.name}' "
            f"with scopes {','.join(token.scopes)}"
        )
        self.stdout.write(secret)
