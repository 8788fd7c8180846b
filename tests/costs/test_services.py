"""The FOCUS importer: totals against DuckDB, formats, replacement, derivations, signals."""

import gzip
import shutil
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.db.models.functions import TruncMonth

from costs import services
from costs.models import DimensionValue, Integration
from costs.signals import focus_import_completed, integration_created
from tests.costrows import stored

from .focus_files import METRICS, MONTHS, distinct_values, generate, monthly_totals, rewrite_csv

TOLERANCE = Decimal("0.000001")


def stored_monthly_totals(integration) -> dict[date, dict[str, Decimal]]:
    rows = (
        stored()
        .filter(integration=integration)
        .annotate(month=TruncMonth("charge_period_start"))
        .values("month")
        .annotate(**{name: Sum(name) for name in METRICS})
        .order_by("month")
    )
    return {row["month"]: {name: Decimal(row[name]) for name in METRICS} for row in rows}


def assert_close(stored: dict[str, Decimal], expected: dict[str, Decimal]):
    for name, value in expected.items():
        assert abs(stored[name] - value) <= TOLERANCE, (name, stored[name], value)


def assert_totals_match(integration, path):
    expected = monthly_totals(path)
    stored = stored_monthly_totals(integration)
    assert stored.keys() == expected.keys()
    for month, sums in expected.items():
        assert_close(stored[month], sums)


def stored_distinct(integration, column) -> set[str]:
    values = stored().filter(integration=integration).values_list(column, flat=True)
    return set(values.distinct()) - {""}


@pytest.mark.parametrize("fixture", ["aws_csv", "azure_csv", "gcp_csv"])
def test_import_matches_duckdb_totals_per_month_and_distinct_dimensions(
    request, organization, fixture
):
    path = request.getfixturevalue(fixture)
    provider = fixture.split("_")[0]
    integration = services.integration_create(organization, provider, provider)

    result = services.focus_import(integration, path)

    assert result.rows_written == result.rows_read == stored().count()
    assert result.months == MONTHS
    assert_totals_match(integration, path)
    assert stored_distinct(integration, "service_name") == distinct_values(path, "ServiceName")
    assert stored_distinct(integration, "region_id") == distinct_values(path, "RegionId")
    assert stored_distinct(integration, "sub_account_id") == distinct_values(path, "SubAccountId")
    assert stored_distinct(integration, "billing_account_id") == distinct_values(
        path, "BillingAccountId"
    )


def test_import_reads_gzip_csv(organization, aws_csv, tmp_path):
    compressed = tmp_path / "export.csv.gz"
    with open(aws_csv, "rb") as source, gzip.open(compressed, "wb") as target:
        shutil.copyfileobj(source, target)
    integration = services.integration_create(organization, "aws")

    services.focus_import(integration, compressed)

    assert_totals_match(integration, aws_csv)


def test_import_reads_typed_parquet(organization, focus_dir):
    path = generate(focus_dir, "azure", rows=900, seed=21, suffix=".parquet")
    integration = services.integration_create(organization, "azure")

    result = services.focus_import(integration, path)

    assert result.rows_written == 900
    assert_totals_match(integration, path)
    assert stored_distinct(integration, "region_id") == distinct_values(path, "RegionId")


def test_import_reads_an_open_binary_file(organization, gcp_csv):
    integration = services.integration_create(organization, "gcp")
    with open(gcp_csv, "rb") as handle:
        services.focus_import(integration, handle)
        assert not handle.closed
    assert_totals_match(integration, gcp_csv)


def test_reimporting_the_same_file_leaves_identical_totals(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)
    before = stored_monthly_totals(aws_integration)
    count = stored().count()

    result = services.focus_import(aws_integration, aws_csv)

    assert result.rows_replaced == count
    assert stored().count() == count
    assert stored_monthly_totals(aws_integration) == before


def test_import_replaces_only_the_billing_periods_in_the_file(aws_integration, focus_dir):
    both_months = generate(focus_dir, "aws", rows=600, seed=31)
    september_only = generate(focus_dir, "aws", rows=200, seed=32, months=[date(2026, 9, 1)])
    services.focus_import(aws_integration, both_months)
    august_before = stored_monthly_totals(aws_integration)[date(2026, 8, 1)]

    result = services.focus_import(aws_integration, september_only)

    totals = stored_monthly_totals(aws_integration)
    assert totals[date(2026, 8, 1)] == august_before
    assert_close(totals[date(2026, 9, 1)], monthly_totals(september_only)[date(2026, 9, 1)])
    assert result.billing_periods == [date(2026, 9, 1)]
    assert stored().filter(charge_period_start__month=9).count() == 200


def test_parts_of_one_export_import_together(aws_integration, focus_dir):
    part_one = generate(focus_dir, "aws", rows=300, seed=41)
    part_two = generate(focus_dir, "aws", rows=300, seed=42)

    result = services.focus_import(aws_integration, [part_one, part_two])

    assert result.rows_written == stored().count() == 600
    expected = {
        month: {name: sums[name] + monthly_totals(part_two)[month][name] for name in METRICS}
        for month, sums in monthly_totals(part_one).items()
    }
    totals = stored_monthly_totals(aws_integration)
    for month, sums in expected.items():
        assert_close(totals[month], sums)


def test_import_leaves_other_integrations_alone(organization, aws_csv):
    first = services.integration_create(organization, "aws", "first")
    second = services.integration_create(organization, "aws", "second")
    services.focus_import(first, aws_csv)

    services.focus_import(second, aws_csv)
    services.focus_import(second, aws_csv)

    assert_totals_match(first, aws_csv)
    assert_totals_match(second, aws_csv)


def test_aws_details_come_from_sku_price_details(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)

    ec2 = stored().filter(service_name="AmazonEC2", operating_system__gt="")
    combinations = set(ec2.values_list("operating_system", "tenancy", "instance_family"))
    assert ("Windows", "Shared", "r6i") in combinations
    assert ("RHEL", "Dedicated", "m5") in combinations
    rds = stored().filter(service_name="AmazonRDS", instance_family__gt="")
    assert set(rds.values_list("instance_family", flat=True)) == {"r6g"}


def test_aws_details_are_derived_from_usage_type_and_operation(aws_integration, aws_csv, tmp_path):
    def strip_sku_details(header, rows):
        position = header.index("SkuPriceDetails")
        for row in rows:
            row[position] = ""

    bare = rewrite_csv(aws_csv, tmp_path / "bare.csv", strip_sku_details)

    services.focus_import(aws_integration, bare)

    dedicated = stored().filter(service_name="AmazonEC2", tenancy="Dedicated")
    assert set(dedicated.values_list("operating_system", "instance_family")) == {("RHEL", "m5")}
    windows = stored().filter(operating_system="Windows")
    assert set(windows.values_list("tenancy", "instance_family")) == {("Shared", "r6i")}


def test_other_providers_have_no_aws_details(organization, azure_csv):
    integration = services.integration_create(organization, "azure")
    services.focus_import(integration, azure_csv)
    assert not stored().exclude(operating_system="", tenancy="", instance_family="").exists()


def test_tags_and_quantities_are_stored(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)
    row = stored().filter(charge_category="Usage").exclude(pricing_quantity=None).first()
    assert set(row.tags) >= {"Environment", "CostCenter", "Owner"}
    assert row.pricing_quantity > 0
    tax = stored().filter(charge_category="Tax").first()
    assert tax.pricing_quantity is None


def test_dimension_values_hold_the_distinct_values_of_the_file(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)

    def values(field):
        return set(
            DimensionValue.objects.filter(integration=aws_integration, field=field).values_list(
                "value", flat=True
            )
        )

    assert values("service") == distinct_values(aws_csv, "ServiceName")
    assert values("region") == distinct_values(aws_csv, "RegionId")
    assert values("account_id") == distinct_values(aws_csv, "SubAccountId")
    assert values("operating_system") == {"Linux", "Windows", "RHEL"}
    tags = DimensionValue.objects.filter(integration=aws_integration, field="tag")
    assert set(tags.values_list("key", flat=True)) >= {"Environment", "CostCenter", "Owner"}
    assert set(tags.filter(key="Environment").values_list("value", flat=True)) == {
        "prod",
        "staging",
        "dev",
    }


def test_dimension_values_follow_replaced_periods(aws_integration, focus_dir, tmp_path):
    original = generate(focus_dir, "aws", rows=300, seed=51)

    def rename_service(header, rows):
        position = header.index("ServiceName")
        for row in rows:
            row[position] = "RenamedService" if row[position] == "AmazonS3" else row[position]

    renamed = rewrite_csv(original, tmp_path / "renamed.csv", rename_service)
    services.focus_import(aws_integration, original)

    services.focus_import(aws_integration, renamed)

    services_now = set(
        DimensionValue.objects.filter(field="service").values_list("value", flat=True)
    )
    assert "RenamedService" in services_now
    assert "AmazonS3" not in services_now


def test_import_sends_its_signal_after_commit(
    aws_integration, aws_csv, django_capture_on_commit_callbacks
):
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    focus_import_completed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.focus_import(aws_integration, aws_csv)
    finally:
        focus_import_completed.disconnect(receiver)

    assert len(received) == 1
    assert received[0]["organization_id"] == aws_integration.organization_id
    assert received[0]["provider"] == "aws"
    assert received[0]["integration_id"] == aws_integration.pk
    assert received[0]["months"] == MONTHS


def test_integration_create_sends_its_signal(organization):
    received = []

    def receiver(integration, **kwargs):
        received.append(integration)

    integration_created.connect(receiver)
    try:
        integration = services.integration_create(organization, "gcp", "")
    finally:
        integration_created.disconnect(receiver)

    assert received == [integration]
    assert integration.name == "Google Cloud billing export"


def test_integration_create_refuses_an_unknown_provider(organization):
    with pytest.raises(services.ServiceError) as error:
        services.integration_create(organization, "oracle", "x")
    assert error.value.field == "provider"
    assert not Integration.objects.exists()


def test_demo_data_covers_three_providers_and_recent_months(organization, monkeypatch):
    monkeypatch.setattr(services, "DEMO_ROWS_PER_PROVIDER", 800)

    integrations = services.demo_data_load(organization, today=date(2026, 11, 15))

    assert [i.provider for i in integrations] == ["aws", "azure", "gcp"]
    months = set(stored().dates("charge_period_start", "month"))
    assert months == {date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)}
    assert not stored().filter(charge_period_start__gte=date(2026, 11, 15)).exists()
    assert stored().count() > 2000
