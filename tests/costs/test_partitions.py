"""Monthly partitions of the legacy row store (PostgreSQL only; SQLite keeps one plain table):
what ``costs_to_columnar`` moves from, and what the row-store engine reads."""

from datetime import date

import pytest
from django.db import connection

from costs import partitions, services
from tests.costrows import copy_to_row_store
from tests.factories import LegacyCostRowFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="cost rows are partitioned on PostgreSQL only"
)


def partition_of_rows() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM costs_costrow GROUP BY 1 ORDER BY 1"
        )
        return dict(cursor.fetchall())


def test_the_table_is_partitioned_by_month(db):
    assert partitions.is_partitioned()


def test_rows_written_to_the_row_store_go_to_their_months_partition(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)
    copy_to_row_store(aws_integration.organization_id)
    assert set(partition_of_rows()) == {"costs_costrow_y2026m08", "costs_costrow_y2026m09"}


def test_orm_inserts_create_the_partition_they_need(aws_integration):
    LegacyCostRowFactory(integration=aws_integration, charge_period_start=date(2031, 3, 4))
    assert partition_of_rows() == {"costs_costrow_y2031m03": 1}
    assert partitions.ensure_month_partitions([date(2031, 3, 1)]) == []


def test_queries_on_a_month_read_only_its_partition(aws_integration, aws_csv):
    services.focus_import(aws_integration, aws_csv)
    copy_to_row_store(aws_integration.organization_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT sum(billed_cost) FROM costs_costrow WHERE organization_id = %s "
            "AND provider = 'aws' AND charge_period_start BETWEEN '2026-09-01' AND '2026-09-30'",
            [aws_integration.organization_id],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "costs_costrow_y2026m09" in plan
    assert "costs_costrow_y2026m08" not in plan
