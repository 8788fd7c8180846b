"""manage.py import_focus: the stable interface of SPEC §10."""

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from costs import services
from costs.models import ImportJob, Integration
from tests.costrows import stored

from .focus_files import rewrite_csv


def run(*args) -> list[str]:
    out = StringIO()
    call_command("import_focus", *[str(a) for a in args], stdout=out)
    return out.getvalue().strip().splitlines()


def test_import_creates_the_integration_and_prints_its_id_last(organization, aws_csv):
    lines = run("--org", organization.pk, "--provider", "aws", aws_csv)

    integration = Integration.objects.get()
    assert lines[-1] == str(integration.pk)
    assert integration.provider == "aws"
    assert integration.organization == organization
    assert "Imported 1,500 rows" in "\n".join(lines)
    assert stored().filter(integration=integration).count() == 1500
    assert ImportJob.objects.get().source == ImportJob.Source.COMMAND


def test_import_into_an_existing_integration_replaces_its_periods(aws_integration, aws_csv):
    args = ("--org", aws_integration.organization_id, "--provider", "aws")
    run(*args, "--integration", aws_integration.pk, aws_csv)
    lines = run(*args, "--integration", aws_integration.pk, aws_csv)

    assert lines[-1] == str(aws_integration.pk)
    assert "replaced 1,500 rows" in lines[-2]
    assert stored().count() == 1500
    assert Integration.objects.count() == 1


def test_several_files_are_parts_of_one_export(organization, aws_csv, tmp_path):
    copy = tmp_path / "part2.csv"
    copy.write_bytes(aws_csv.read_bytes())
    run("--org", organization.pk, "--provider", "aws", aws_csv, copy)
    assert stored().count() == 3000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "not-a-uuid", "--provider", "aws"], "Organization 'not-a-uuid' not found"),
        (["--org", str(uuid.uuid4()), "--provider", "aws"], "not found"),
        (["--provider", "oracle"], "Unknown provider 'oracle'"),
        (["--provider", "aws", "--integration", "nope"], "Integration 'nope' not found"),
    ],
)
def test_bad_arguments_fail_clearly(organization, aws_csv, args, message):
    if "--org" not in args:
        args = ["--org", str(organization.pk), *args]
    with pytest.raises(CommandError, match=message):
        run(*args, aws_csv)
    assert not Integration.objects.exists()


def test_integration_of_another_organization_or_provider(
    organization, other_org_integration, aws_csv
):
    with pytest.raises(CommandError, match="not found in organization"):
        run(
            "--org",
            organization.pk,
            "--provider",
            "aws",
            "--integration",
            other_org_integration.pk,
            aws_csv,
        )
    gcp = services.integration_create(organization, "gcp")
    with pytest.raises(CommandError, match="is a gcp integration, not aws"):
        run("--org", organization.pk, "--provider", "aws", "--integration", gcp.pk, aws_csv)


def test_missing_file(organization, tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        run("--org", organization.pk, "--provider", "aws", tmp_path / "nope.csv")


def test_malformed_file_names_line_and_column_and_leaves_nothing(organization, aws_csv, tmp_path):
    def bad_cost(header, rows):
        rows[41][header.index("EffectiveCost")] = "twelve"

    path = rewrite_csv(aws_csv, tmp_path / "bad.csv", bad_cost)

    with pytest.raises(CommandError) as error:
        run("--org", organization.pk, "--provider", "aws", path)

    assert str(error.value) == ("bad.csv, line 43, column EffectiveCost: not a number: 'twelve'")
    assert not Integration.objects.exists()
    assert not stored().exists()
    assert not ImportJob.objects.exists()
