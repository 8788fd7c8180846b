"""Demo content of the cost data (called by ``manage.py load_demo``)."""

from . import services


def load(organization, user) -> None:
    services.demo_data_load(organization)
