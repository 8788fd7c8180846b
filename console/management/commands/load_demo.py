from django.core.management.base import BaseCommand

from console.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_load


class Command(BaseCommand):
    help = "Create the demo organization, user demo/demo, data; last line: a fresh demo token."

    def handle(self, **options):
        result = demo_load()
        organization = result.organization
        if result.created:
            self.stdout.write(
                f"Created demo organization '{organization.name}' ({organization.pk})"
            )
            self.stdout.write(f"Loaded demo data: {', '.join(result.loaded) or 'none'}")
        else:
            self.stdout.write(
                f"Demo organization '{organization.name}' already exists ({organization.pk})"
            )
        self.stdout.write(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(result.token_secret)
