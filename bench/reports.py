"""Benchmark: ``/v2/costs`` for a month grouped by service, over N cost rows.

Usage (embedded SQLite and a Parquet store under ``var/bench/reports``, both re-created):

    .venv/bin/python bench/reports.py [--rows 1000000] [--rounds 20] [--file PATH]

It generates N AWS FOCUS rows with ``costs.sample_data`` over three months (cached as
``var/bench/aws-<rows>.parquet``, the file ``bench/columnar.py`` uses, or ``--file``), imports
them through ``costs.services.focus_import``, then times, round after round, the whole request
(``GET /v2/costs?filter=costs.provider = 'aws'&groupings=service&date_bin=month`` for one month,
through the test client: authentication, parsing, the query, the JSON) and the same figures by
DuckDB over the same Parquet file (the reference). Both must agree to the cent, every group, or
the run aborts. It prints the median and p95 of each (after one untimed warm-up round).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sample import focus_file, percentile  # noqa: E402

CENT = Decimal("0.005")
URL = (
    "/v2/costs?filter=costs.provider = 'aws'&groupings=service&date_bin=month"
    "&start_date=2026-09-01&end_date=2026-09-30&limit=5000"
    "&settings[show_previous_period]=false"
)
# Report defaults: usage, purchases, discounts (Adjustment) and tax; no credits, no refunds.
DUCK_SQL = """
    SELECT ServiceName, sum(CAST(EffectiveCost AS DECIMAL(38, 10)))
    FROM read_parquet('{path}')
    WHERE CAST(ChargePeriodStart AS DATE) BETWEEN DATE '2026-09-01' AND DATE '2026-09-30'
      AND coalesce(ChargeClass, '') <> 'Correction' AND ChargeCategory <> 'Credit'
    GROUP BY 1
"""


def setup(directory: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ["COSTLINE_COLUMNAR_ROOT"] = str(ROOT / "var" / "bench" / "reports")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.COSTLINE_COLUMNAR_ROOT = os.environ["COSTLINE_COLUMNAR_ROOT"]
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def load(path: Path):
    import shutil

    from costs.columnar.store import store_root
    from costs.services import focus_import, integration_create
    from organizations.services import api_token_create, organization_create

    shutil.rmtree(store_root(), ignore_errors=True)
    organization = organization_create("Reports bench")
    integration = integration_create(organization, "aws", "AWS payer")
    started = time.perf_counter()
    written = focus_import(integration, path).rows_written
    print(f"imported {written:,} rows in {time.perf_counter() - started:.1f} s")
    return api_token_create(organization, name="bench", scopes="read")[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--file", help="a FOCUS AWS Parquet file instead of generating one")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory))
        import duckdb
        from rest_framework.test import APIClient

        path = focus_file(options.rows, options.file)
        secret = load(path)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        # One untimed round each: the first opens this process's chDB and DuckDB engines.
        client.get(URL)
        duckdb.sql(DUCK_SQL.format(path=path)).fetchall()
        api_times, duck_times = [], []
        for _ in range(options.rounds):
            started = time.perf_counter()
            response = client.get(URL)
            api_times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content
            started = time.perf_counter()
            reference = dict(duckdb.sql(DUCK_SQL.format(path=path)).fetchall())
            duck_times.append(time.perf_counter() - started)
            shown = {item["service"]: Decimal(item["amount"]) for item in response.json()["costs"]}
            assert set(shown) == {key or None for key in reference}, "groups differ"
            for service, amount in reference.items():
                assert abs(shown[service or None] - amount) < CENT, (service, amount)
        for name, times in (("/v2/costs (whole request)", api_times), ("DuckDB", duck_times)):
            print(
                f"{name}: median {statistics.median(times) * 1000:.0f} ms, "
                f"p95 {percentile(times, 0.95) * 1000:.0f} ms over {len(times)} rounds"
            )
        print(f"{len(shown)} services agree to the cent")


if __name__ == "__main__":
    main()
