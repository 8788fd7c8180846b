"""Benchmark: a sync from S3 (moto's server, boto3, ranged streaming reads) against the same
import from a local file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/costline_bench_connectors \\
        .venv/bin/python bench/connectors.py [--rows 1000000] [--gzip] [--repeat 3] \\
        [--file /tmp/focus_1m.csv.gz] [--with-refresh]

1. Generates an AWS FOCUS 1.2 CSV of ``--rows`` rows over one billing period (or takes
   ``--file``, generating it there first when missing).
2. Starts moto's S3 server and lays the file out as AWS Data Exports does (data file, then the
   documented ``<export>-Manifest.json``).
3. ``--repeat`` rounds; in each, one after the other and each in a child process (so its peak
   RSS is its own): ``focus_import`` of the local file, and a sync of an S3 source (discovery,
   then the job streaming from the bucket). The order alternates between rounds, so a drift of
   the shared machine's load does not favour one side. The segments refresh that follows each
   import's commit is the same work on both sides and is left out of the timings unless
   ``--with-refresh``.
4. Prints seconds, rows/s and peak RSS of every run, then the medians of both sides and the
   median of the per-round ratios (target <= 1.5x, with the same flat memory ceiling).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PERIOD = date(2026, 8, 1)
EXPORT = "focus-bench"
KEYS = {"access_key_id": "AKIABENCH", "secret_access_key": "bench-secret"}


def setup_django():
    import django

    django.setup()


def _child(mode: str, path: str, integration_id: str, queue, with_refresh: bool) -> None:
    setup_django()
    from costs import services
    from costs.connectors import sync
    from costs.models import Integration
    from costs.signals import focus_import_completed

    if not with_refresh:
        # The segments engine refreshes the imported months on commit (in-process, eager Celery):
        # the same seconds on both sides, so left out to compare the imports themselves.
        focus_import_completed.receivers = []
        focus_import_completed.sender_receivers_cache.clear()

    integration = Integration.objects.get(pk=integration_id)
    started = time.monotonic()
    if mode == "local":
        rows = services.focus_import(integration, path).rows_written
    else:
        (job,) = sync.source_sync(integration, enqueue=False)
        job = services.import_job_run(job)
        if job.status != "succeeded":
            raise SystemExit(job.error)
        rows = job.rows_written
    queue.put(
        {
            "rows": rows,
            "seconds": time.monotonic() - started,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def measure(mode: str, path: Path, integration, with_refresh: bool) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(
        target=_child, args=(mode, str(path), str(integration.pk), queue, with_refresh)
    )
    child.start()
    outcome = queue.get()
    child.join()
    if child.exitcode:
        raise SystemExit(f"{mode} import failed with exit code {child.exitcode}")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--gzip", action="store_true", help="a .csv.gz export (AWS's default)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (median of them)")
    parser.add_argument(
        "--file", help="the export to use; generated there first if it does not exist (kept)"
    )
    parser.add_argument(
        "--with-refresh",
        action="store_true",
        help="keep the segments refresh that runs on each import's commit in the timings",
    )
    args = parser.parse_args()

    setup_django()
    import boto3
    from django.core.management import call_command

    from costs.connectors import sync
    from costs.sample_data import write_focus_csv
    from costs.services import integration_create
    from organizations.services import organization_create
    from tests.costs.emulators import moto_s3

    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory(prefix="costline-bench-") as directory, moto_s3() as url:
        path = Path(directory) / ("focus_aws.csv.gz" if args.gzip else "focus_aws.csv")
        if args.file:
            path = Path(args.file)
        if not path.exists():
            print(f"generating {args.rows:,} rows ...", flush=True)
            write_focus_csv(path, "aws", rows=args.rows, seed=7, months=[PERIOD])
        print(f"{path}: {path.stat().st_size / 1e6:,.0f} MB", flush=True)
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=KEYS["access_key_id"],
            aws_secret_access_key=KEYS["secret_access_key"],
        )
        s3.create_bucket(Bucket="bench")
        key = f"exports/{EXPORT}/data/BILLING_PERIOD=2026-08/{EXPORT}-00001{''.join(path.suffixes)}"
        s3.upload_file(str(path), "bench", key)
        manifest = {
            "executionId": "bench-execution",
            "exportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{EXPORT}",
            "columns": [{"name": "BilledCost", "type": "decimal"}],
            "dataFiles": [f"s3://bench/{key}"],
            "additionalOutputFiles": [],
        }
        s3.put_object(
            Bucket="bench",
            Key=f"exports/{EXPORT}/metadata/BILLING_PERIOD=2026-08/{EXPORT}-Manifest.json",
            Body=json.dumps(manifest).encode(),
        )
        source = {"type": "s3", "bucket": "bench", "prefix": "exports", "endpoint_url": url, **KEYS}
        ratios = []
        runs: dict[str, list[dict]] = {"local": [], "s3": []}
        for attempt in range(1, args.repeat + 1):
            organization = organization_create(f"bench {time.strftime('%Y-%m-%d %H:%M:%S')}")
            try:
                local = integration_create(organization, "aws", "local")
                remote = integration_create(organization, "aws", "s3")
                sync.source_save(remote, source)
                outcomes = {}
                order = [("local", local), ("s3", remote)]
                for mode, integration in order if attempt % 2 else order[::-1]:
                    outcome = measure(mode, path, integration, args.with_refresh)
                    outcomes[mode] = outcome
                    runs[mode].append(outcome)
                    print(
                        f"round {attempt}: {mode:5} {outcome['rows']:,} rows in "
                        f"{outcome['seconds']:,.1f} s = {outcome['rows'] / outcome['seconds']:,.0f}"
                        f" rows/s; peak RSS {outcome['maxrss_mb']:,.0f} MB",
                        flush=True,
                    )
                ratios.append(outcomes["s3"]["seconds"] / outcomes["local"]["seconds"])
            finally:
                organization.delete()
        for mode, outcomes in runs.items():
            seconds = [outcome["seconds"] for outcome in outcomes]
            rss = [outcome["maxrss_mb"] for outcome in outcomes]
            print(
                f"{mode:5}: median {statistics.median(seconds):,.1f} s "
                f"(runs {', '.join(f'{value:.1f}' for value in seconds)}); "
                f"peak RSS {min(rss):,.0f}-{max(rss):,.0f} MB"
            )
        print(
            f"ratio s3 sync / local import: median {statistics.median(ratios):.2f}x "
            f"(rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)}; target <= 1.5x)"
        )


if __name__ == "__main__":
    main()
