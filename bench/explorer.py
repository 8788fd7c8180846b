"""Benchmark: the cost explorer's month × service question over HTTP, over N cost rows.

Usage (embedded SQLite and a Parquet store under ``var/bench/explorer``, both re-created):

    .venv/bin/python bench/explorer.py [--rows 1000000] [--rounds 30] [--users 8] [--file PATH]
        [--copies 10]   # the file imported into 10 integrations: 10M rows

It generates N AWS FOCUS rows with ``costs.sample_data`` over three months (cached as
``var/bench/aws-<rows>.parquet``, the file ``bench/columnar.py`` uses, or ``--file``), imports
them through ``costs.services.focus_import``, serves Costline with a threaded WSGI server on a
local port, and times (after one untimed request of each), round after round and
interleaved, real HTTP requests:

  * the explorer page, ``/costs/?group_by=service&granularity=month`` over the three months
    (a signed-in person: session cookie), the whole page rendered;
  * ``GET /api/v1/costs`` with the same question (a Bearer token), the JSON;
  * the same figures computed by DuckDB over the same Parquet file (the reference: one
    hand-written GROUP BY, no HTTP).

The API's figures must equal DuckDB's to the cent for every (month, service), or the run
aborts. Then ``--users`` clients request the page at once for ``--seconds`` and it reports
requests per second and the p95 under that load. It prints median and p95 of each.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sample import focus_file, percentile  # noqa: E402

CENT = Decimal("0.005")
QUESTION = (
    "group_by=service&granularity=month&start=2026-08-01&end=2026-10-31&metric=effective_cost"
)
DUCK_SQL = """
    SELECT date_trunc('month', CAST(ChargePeriodStart AS DATE)) AS month, ServiceName,
           sum(CAST(EffectiveCost AS DECIMAL(38, 10)))
    FROM read_parquet({paths})
    WHERE CAST(ChargePeriodStart AS DATE) BETWEEN DATE '2026-08-01' AND DATE '2026-10-31'
    GROUP BY 1, 2
"""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def setup(directory: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ["COSTLINE_COLUMNAR_ROOT"] = str(ROOT / "var" / "bench" / "explorer")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def load(path: Path, copies: int) -> tuple[str, str]:
    """Import the file (into ``copies`` integrations: ``copies`` × its rows); return (a read
    token, a signed-in person's session cookie)."""
    import shutil

    from django.test import Client

    from costs.columnar.store import store_root
    from costs.services import focus_import, integration_create
    from organizations.models import Role
    from organizations.services import api_token_create, membership_set, organization_create
    from tests.factories import UserFactory

    shutil.rmtree(store_root(), ignore_errors=True)
    organization = organization_create("Explorer bench")
    started, written = time.perf_counter(), 0
    for copy in range(copies):
        integration = integration_create(organization, "aws", f"AWS payer {copy + 1}")
        written += focus_import(integration, path).rows_written
    print(f"imported {written:,} rows in {time.perf_counter() - started:.1f} s")
    person = UserFactory(username="bench")
    membership_set(organization, person, Role.ADMIN)
    client = Client()
    client.force_login(person)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return api_token_create(organization, name="bench", scopes="read")[1], cookie


def fetch(url: str, headers: dict) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        body = response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - started, body


def report(name: str, times: list[float]) -> None:
    print(
        f"{name}: median {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {percentile(times, 0.95) * 1000:.0f} ms over {len(times)} requests"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--file", help="a FOCUS AWS Parquet file instead of generating one")
    parser.add_argument(
        "--copies", type=int, default=1, help="import the file into this many integrations"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory))
        import json

        import duckdb
        from django.core.wsgi import get_wsgi_application

        path = focus_file(options.rows, options.file)
        secret, cookie = load(path, options.copies)
        paths = "[" + ", ".join([f"'{path}'"] * options.copies) + "]"
        server = make_server(
            "127.0.0.1", 0, get_wsgi_application(), _Server, handler_class=_QuietHandler
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        page, api = f"{base}/costs/?{QUESTION}", f"{base}/api/v1/costs?{QUESTION}"
        page_headers = {"Cookie": cookie}
        api_headers = {"Authorization": f"Bearer {secret}"}
        # One untimed request of each first: the process's engine connection and templates load.
        fetch(page, page_headers)
        fetch(api, api_headers)
        page_times, api_times, duck_times = [], [], []
        for _ in range(options.rounds):
            seconds, body = fetch(page, page_headers)
            page_times.append(seconds)
            assert b"AmazonEC2" in body
            seconds, body = fetch(api, api_headers)
            api_times.append(seconds)
            started = time.perf_counter()
            reference = duckdb.sql(DUCK_SQL.format(paths=paths)).fetchall()
            duck_times.append(time.perf_counter() - started)
            shown = {
                (row["period"], row["group"]): Decimal(str(row["effective_cost"]))
                for row in json.loads(body)["rows"]
            }
            expected = {
                (month.isoformat()[:10], service): amount for month, service, amount in reference
            }
            assert shown.keys() == expected.keys(), "groups differ"
            for key, amount in expected.items():
                assert abs(shown[key] - amount) < CENT, (key, shown[key], amount)
        report("explorer page over HTTP", page_times)
        report("GET /api/v1/costs over HTTP", api_times)
        report("DuckDB, one GROUP BY (reference)", duck_times)
        print(f"{len(shown)} (month, service) figures agree to the cent")

        loaded: list[float] = []
        deadline = time.monotonic() + options.seconds

        def user() -> None:
            while time.monotonic() < deadline:
                loaded.append(fetch(page, page_headers)[0])

        started = time.perf_counter()
        with ThreadPoolExecutor(options.users) as pool:
            for _ in range(options.users):
                pool.submit(user)
        elapsed = time.perf_counter() - started
        report(f"explorer page, {options.users} users at once", loaded)
        print(f"throughput: {len(loaded) / elapsed:.1f} pages per second")
        server.shutdown()


if __name__ == "__main__":
    main()
