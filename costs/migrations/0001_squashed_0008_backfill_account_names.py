"""Costs 0001-0008 in one migration, for new installations (existing ones keep their history).

The tables are created in their final form; the cost-row table is partitioned by month on
PostgreSQL as 0003 does (same functions) before its indexes exist, so the indexes that 0001-0004
created, dropped and recreated on the way are each created once. 0008 only backfilled data, so
new installations skip it. The schema is the one 0001-0008 give, with one difference nothing
depends on: on SQLite, 0002 rebuilt the table and so put integration_id before organization_id;
here they keep the model's order, as on PostgreSQL. The migrations it replaces stay until every
installation has applied them.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "costs_costrow"


def _month_bounds(cursor, table):
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', charge_period_start)::date FROM {table} ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def _next_month(month):
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def _add_indexes(model, schema_editor):
    # The new table has no index yet. It needs no foreign key either: since 0002 the cost row's
    # foreign keys carry no database constraint (db_constraint=False).
    assert not any(
        field.remote_field and field.db_constraint for field in model._meta.concrete_fields
    )
    for index in model._meta.indexes:
        schema_editor.add_index(model, index)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    CostRow = apps.get_model("costs", "CostRow")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_plain")
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s", [f"{TABLE}_plain"]
        )
        for (index_name,) in cursor.fetchall():
            cursor.execute(
                f'ALTER INDEX "{index_name}" RENAME TO "{index_name[:50]}_plain"'
            )
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {TABLE}_plain INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING STORAGE) PARTITION BY RANGE (charge_period_start)"
        )
        cursor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id, charge_period_start)")
        for month in _month_bounds(cursor, f"{TABLE}_plain"):
            name = f"{TABLE}_y{month.year:04d}m{month.month:02d}"
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {TABLE} "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_next_month(month).isoformat()}')"
            )
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_plain")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
        )
        cursor.execute(f"DROP TABLE {TABLE}_plain")
    _add_indexes(CostRow, schema_editor)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    CostRow = apps.get_model("costs", "CostRow")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_partitioned")
        for index in CostRow._meta.indexes:
            cursor.execute(f'ALTER INDEX "{index.name}" RENAME TO "{index.name}_partitioned"')
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {TABLE}_partitioned INCLUDING DEFAULTS "
            "INCLUDING IDENTITY INCLUDING STORAGE)"
        )
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_partitioned")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
        )
        cursor.execute(f"DROP TABLE {TABLE}_partitioned CASCADE")
        cursor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")
    _add_indexes(CostRow, schema_editor)


class Migration(migrations.Migration):

    replaces = [
        ('costs', '0001_initial'),
        ('costs', '0002_import_jobs_dimension_values'),
        ('costs', '0003_partition_cost_rows'),
        ('costs', '0004_one_dimension_index'),
        ('costs', '0005_import_job_heartbeat'),
        ('costs', '0006_integration_sources'),
        ('costs', '0007_dimension_account_name'),
        ('costs', '0008_backfill_account_names'),
    ]

    initial = True

    dependencies = [
        ('organizations', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Integration',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('provider', models.CharField(choices=[('aws', 'AWS'), ('azure', 'Azure'), ('gcp', 'GCP')], max_length=8)),
                ('name', models.CharField(max_length=200)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='integrations', to='organizations.organization')),
            ],
            options={
                'ordering': ['provider', 'name'],
            },
        ),
        migrations.CreateModel(
            name='CostRow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(choices=[('aws', 'AWS'), ('azure', 'Azure'), ('gcp', 'GCP')], max_length=8)),
                ('billing_account_id', models.CharField(blank=True, default='', max_length=128)),
                ('billing_account_name', models.CharField(blank=True, default='', max_length=255)),
                ('sub_account_id', models.CharField(blank=True, default='', max_length=128)),
                ('sub_account_name', models.CharField(blank=True, default='', max_length=255)),
                ('service_name', models.CharField(blank=True, default='', max_length=255)),
                ('service_category', models.CharField(blank=True, default='', max_length=64)),
                ('service_subcategory', models.CharField(blank=True, default='', max_length=128)),
                ('region_id', models.CharField(blank=True, default='', max_length=64)),
                ('resource_id', models.CharField(blank=True, default='', max_length=512)),
                ('resource_type', models.CharField(blank=True, default='', max_length=128)),
                ('sku_id', models.CharField(blank=True, default='', max_length=255)),
                ('charge_category', models.CharField(blank=True, default='', max_length=16)),
                ('charge_class', models.CharField(blank=True, default='', max_length=16)),
                ('charge_description', models.CharField(blank=True, default='', max_length=512)),
                ('pricing_category', models.CharField(blank=True, default='', max_length=16)),
                ('commitment_discount_id', models.CharField(blank=True, default='', max_length=512)),
                ('commitment_discount_type', models.CharField(blank=True, default='', max_length=64)),
                ('billed_cost', models.DecimalField(decimal_places=10, default=0, max_digits=28)),
                ('effective_cost', models.DecimalField(decimal_places=10, default=0, max_digits=28)),
                ('list_cost', models.DecimalField(decimal_places=10, default=0, max_digits=28)),
                ('contracted_cost', models.DecimalField(decimal_places=10, default=0, max_digits=28)),
                ('pricing_quantity', models.DecimalField(blank=True, decimal_places=10, max_digits=28, null=True)),
                ('pricing_unit', models.CharField(blank=True, default='', max_length=64)),
                ('consumed_quantity', models.DecimalField(blank=True, decimal_places=10, max_digits=28, null=True)),
                ('consumed_unit', models.CharField(blank=True, default='', max_length=64)),
                ('billing_currency', models.CharField(blank=True, default='USD', max_length=8)),
                ('charge_period_start', models.DateField(help_text='The usage day (UTC).')),
                ('billing_period_start', models.DateField()),
                ('tags', models.JSONField(blank=True, default=dict)),
                ('operating_system', models.CharField(blank=True, default='', max_length=64)),
                ('tenancy', models.CharField(blank=True, default='', max_length=32)),
                ('instance_family', models.CharField(blank=True, default='', max_length=32)),
                ('organization', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organizations.organization')),
                ('integration', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='cost_rows', to='costs.integration')),
            ],
        ),
        # Partitioned while the table has no index: CreateModel defers its indexes to the end of
        # the migration, by when the table they were meant for is gone. Each index is then
        # created once, on the partitioned table (and so on every partition).
        migrations.RunPython(partition, unpartition),
        migrations.AddIndex(
            model_name='costrow',
            index=models.Index(fields=['organization', 'provider', 'charge_period_start'], name='cost_org_provider_day'),
        ),
        migrations.AddIndex(
            model_name='costrow',
            index=models.Index(fields=['integration', 'billing_period_start'], name='cost_integration_period'),
        ),
        migrations.AddIndex(
            model_name='costrow',
            index=models.Index(fields=['organization', 'provider', 'service_name', 'sub_account_id', 'region_id'], name='cost_org_dimensions'),
        ),
        migrations.CreateModel(
            name='DimensionValue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(choices=[('aws', 'AWS'), ('azure', 'Azure'), ('gcp', 'GCP')], max_length=8)),
                ('billing_period_start', models.DateField()),
                ('field', models.CharField(choices=[('account_id', 'Account'), ('account_name', 'Account name'), ('billing_account_id', 'Billing account'), ('service', 'Service'), ('service_category', 'Service category'), ('region', 'Region'), ('charge_category', 'Charge category'), ('pricing_category', 'Pricing category'), ('operating_system', 'Operating system'), ('tenancy', 'Tenancy'), ('instance_family', 'Instance family'), ('tag', 'Tag')], max_length=32)),
                ('key', models.CharField(blank=True, default='', max_length=255)),
                ('value', models.CharField(blank=True, default='', max_length=512)),
                ('integration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='dimension_values', to='costs.integration')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organizations.organization')),
            ],
            options={
                'indexes': [models.Index(fields=['organization', 'provider', 'field'], name='dimension_org_field')],
                'constraints': [models.UniqueConstraint(fields=('integration', 'billing_period_start', 'field', 'key', 'value'), name='dimension_value_unique')],
            },
        ),
        migrations.CreateModel(
            name='ImportJob',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('source', models.CharField(choices=[('upload', 'Upload page'), ('api', 'API'), ('command', 'Command line'), ('demo', 'Demo data'), ('sync', 'Cloud sync')], default='upload', max_length=16)),
                ('file', models.FileField(blank=True, max_length=500, upload_to='imports/%Y/%m/')),
                ('source_paths', models.JSONField(blank=True, default=list, help_text='Local files of a command-line or demo import.')),
                ('filename', models.CharField(max_length=255)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='queued', max_length=16)),
                ('rows_read', models.BigIntegerField(default=0)),
                ('rows_written', models.BigIntegerField(default=0)),
                ('rows_replaced', models.BigIntegerField(default=0)),
                ('billing_periods', models.JSONField(blank=True, default=list)),
                ('months', models.JSONField(blank=True, default=list)),
                ('error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('integration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='imports', to='costs.integration')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='import_jobs', to='organizations.organization')),
                ('attempts', models.PositiveIntegerField(default=0, help_text='Runs started so far.')),
                ('heartbeat_at', models.DateTimeField(blank=True, help_text='Last sign of life: queued, started, or a progress report of its worker.', null=True)),
            ],
            options={
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['organization', '-created_at'], name='import_org_created'), models.Index(fields=['status', 'heartbeat_at'], name='import_status_heartbeat')],
            },
        ),
        migrations.CreateModel(
            name='IntegrationSource',
            fields=[
                ('integration', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='source', serialize=False, to='costs.integration')),
                ('type', models.CharField(choices=[('s3', 'Amazon S3'), ('azure_blob', 'Azure Blob Storage'), ('gcs', 'Google Cloud Storage')], max_length=16)),
                ('settings', models.JSONField(blank=True, default=dict)),
                ('secrets', models.TextField(blank=True, help_text='Encrypted credentials (write-only).')),
                ('sync_every_minutes', models.PositiveIntegerField(default=60)),
                ('last_checked_at', models.DateTimeField(blank=True, null=True)),
                ('last_imported_delivery', models.CharField(blank=True, max_length=500)),
                ('next_run_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('last_error', models.TextField(blank=True)),
            ],
        ),
        migrations.CreateModel(
            name='SourceDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(help_text='The export and billing period.', max_length=500)),
                ('fingerprint', models.CharField(max_length=64)),
                ('objects_list', models.JSONField(default=list, help_text='Data files: key, etag, size.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('job', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='delivery', to='costs.importjob')),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='costs.integrationsource')),
            ],
            options={
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['source', 'key'], name='delivery_source_key')],
            },
        ),
    ]
