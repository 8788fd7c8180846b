"""On PostgreSQL, turn ``costs_costrow`` into a table range-partitioned by charge month.

The primary key becomes ``(id, charge_period_start)`` (a partitioned table's unique keys must
contain the partition key); ``id`` still comes from one identity sequence, so it stays unique and
Django keeps using it alone. Existing rows move into one partition per month. Indexes are
declared on the parent and cascade to every partition (the FKs carry no database constraint
since 0002). Other databases keep the
plain table. See docs/cost-data.md.
"""

from django.db import migrations

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
    atomic = True

    dependencies = [("costs", "0002_import_jobs_dimension_values")]

    operations = [migrations.RunPython(partition, unpartition)]
