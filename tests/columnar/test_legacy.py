"""``manage.py costs_to_columnar``: an installation's rows move from the database's row store to
the columnar store, period by period, with the same figures, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from costs.columnar.models import ColumnarPartition
from costs.models import CostRow
from costs.services import focus_import, integration_create

from ..costrows import copy_to_row_store, stored_rows
from ..costs.focus_files import METRICS, generate, monthly_totals
from ..segments.conftest import committed

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def aws_file(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("legacy"), "aws", rows=900, seed=5)


@pytest.fixture
def upgraded(organization, aws_file):
    """An installation of an earlier version: its rows in ``costs.CostRow``, none in the store."""
    integration = integration_create(organization, "aws", "AWS payer")
    with committed():
        focus_import(integration, aws_file)
    copy_to_row_store(organization.pk)
    with committed():
        ColumnarPartition.objects.all().delete()
    assert CostRow.objects.count() == 900 and not stored_rows()
    return integration


def run(*args) -> list[str]:
    out = StringIO()
    with committed():
        call_command("costs_to_columnar", *args, stdout=out)
    return out.getvalue().splitlines()


def monthly(rows) -> dict:
    totals: dict = {}
    for row in rows:
        month = totals.setdefault(row["charge_period_start"].replace(day=1), {})
        for name in METRICS:
            month[name] = month.get(name, 0) + row[name]
    return totals


def test_rows_move_with_the_files_figures_and_leave_the_database(upgraded, aws_file):
    lines = run()
    assert lines[-1] == "Moved 900 rows of 2 billing period(s) to the columnar store"
    assert not CostRow.objects.exists()
    # Independent figures: DuckDB over the original file.
    expected = monthly_totals(aws_file)
    stored = monthly(stored_rows())
    assert stored.keys() == expected.keys()
    for month, sums in expected.items():
        for name, value in sums.items():
            assert abs(stored[month][name] - value) < 1e-6, (month, name)
    assert run()[-1] == "Moved 0 rows of 0 billing period(s) to the columnar store"


def test_a_period_imported_again_since_keeps_its_newer_rows(upgraded, aws_file):
    with committed():
        focus_import(upgraded, aws_file)  # after the upgrade: the store holds both periods
    lines = run("--org", str(upgraded.organization_id))
    assert lines[-2].startswith("Dropped 900 rows of 2 billing period(s)")
    assert lines[-1] == "Moved 0 rows of 0 billing period(s) to the columnar store"
    assert not CostRow.objects.exists()
    assert len(stored_rows()) == 900


def test_an_unknown_organization_is_refused(db):
    with pytest.raises(CommandError, match="not found"):
        call_command("costs_to_columnar", "--org", "nope")
