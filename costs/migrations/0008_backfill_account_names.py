"""Account names (SubAccountName) for data imported before the importer kept them: one grouped
read of the cost rows per integration, written as ``account_name`` dimension values."""

from django.db import migrations

BATCH = 1000


def backfill(apps, schema_editor):
    CostRow = apps.get_model("costs", "CostRow")
    DimensionValue = apps.get_model("costs", "DimensionValue")
    Integration = apps.get_model("costs", "Integration")
    for integration in Integration.objects.all().iterator():
        known = set(
            DimensionValue.objects.filter(
                integration=integration, field="account_name"
            ).values_list("billing_period_start", "key")
        )
        rows = (
            CostRow.objects.filter(integration=integration)
            .exclude(sub_account_id="")
            .exclude(sub_account_name="")
            .values_list("billing_period_start", "sub_account_id", "sub_account_name")
            .distinct()
            .order_by()
        )
        new = [
            DimensionValue(
                organization_id=integration.organization_id,
                provider=integration.provider,
                integration=integration,
                billing_period_start=period,
                field="account_name",
                key=account[:255],
                value=name[:512],
            )
            for period, account, name in rows
            if (period, account[:255]) not in known
        ]
        DimensionValue.objects.bulk_create(new, batch_size=BATCH, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("costs", "0007_dimension_account_name")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
