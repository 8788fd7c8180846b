import pytest

from costs import services
from tests.factories import OrganizationFactory

from .focus_files import generate


@pytest.fixture(scope="session")
def focus_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("focus")


@pytest.fixture(scope="session")
def aws_csv(focus_dir):
    return generate(focus_dir, "aws", rows=1500, seed=11)


@pytest.fixture(scope="session")
def azure_csv(focus_dir):
    return generate(focus_dir, "azure", rows=1000, seed=12, focus_version="1.3")


@pytest.fixture(scope="session")
def gcp_csv(focus_dir):
    return generate(focus_dir, "gcp", rows=1000, seed=13)


@pytest.fixture
def aws_integration(organization):
    return services.integration_create(organization, "aws", "AWS payer")


@pytest.fixture
def other_org_integration(db):
    return services.integration_create(OrganizationFactory(name="Initech"), "aws", "Theirs")
