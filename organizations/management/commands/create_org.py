from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from organizations import services
from organizations.models import Role


class Command(BaseCommand):
    help = "Create an organization (with its default workspace); last line: the organization id."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--admin-user", help="Username to make admin (created if missing).")
        parser.add_argument("--password", help="Password for --admin-user.")

    def handle(self, name, admin_user=None, password=None, **options):
        if password and not admin_user:
            raise CommandError("--password needs --admin-user.")
        try:
            admin = services.user_ensure(admin_user, password) if admin_user else None
            organization = services.organization_create(name, admin_user=admin)
        except ServiceError as error:
            raise CommandError(error.message) from error
        workspace = organization.default_workspace
        self.stdout.write(f"Created organization '{organization.name}'")
        self.stdout.write(f"Default workspace: {workspace.token}")
        if admin:
            self.stdout.write(f"Admin user: {admin.username} ({Role.ADMIN})")
        self.stdout.write(str(organization.pk))
