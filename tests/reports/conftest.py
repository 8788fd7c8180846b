"""Fixtures of the reports tests: FOCUS files of two providers, imported."""

import pytest

from costs.services import focus_import, integration_create

from ..costs.focus_files import generate
from ..segments.conftest import committed
from ..segments.test_figures_oracle import MONTHS, with_refunds


@pytest.fixture(scope="module")
def focus_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reports")
    return {
        provider: with_refunds(
            generate(directory, provider, rows=600, seed=11, months=MONTHS),
            directory / f"{provider}_reports_refunds.csv",
        )
        for provider in ("aws", "gcp")
    }


@pytest.fixture
def imported(organization, focus_files):
    for provider, path in focus_files.items():
        with committed():
            focus_import(integration_create(organization, provider, f"{provider} billing"), path)
    return focus_files
