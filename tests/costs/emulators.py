"""Real local emulators of the clouds' object stores, started as processes by the tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"emulator did not listen on {port} within {seconds} s")


@contextmanager
def running(command: list[str], port: int):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def moto_s3():
    """moto in server mode: S3 (and STS) over HTTP, as boto3 speaks to AWS."""
    port = free_port()
    with running(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port
    ) as url:
        yield url


AZURITE = (
    Path(__file__).resolve().parents[1] / "emulators" / "node_modules" / ".bin" / "azurite-blob"
)
# Azurite's well-known development account (public, documented; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@contextmanager
def azurite(workdir: Path):
    """Azurite's Blob service (npm, installed under tests/emulators by ``npm ci``)."""
    port = free_port()
    command = [
        str(AZURITE),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(workdir),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
    ]
    with running(command, port) as url:
        yield f"{url}/{AZURITE_ACCOUNT}"


@contextmanager
def gcs_emulator():
    """gcp-storage-emulator (PyPI): the GCS JSON API in memory."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gcp-storage-emulator")),
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--in-memory",
        "--quiet",
    ]
    with running(command, port) as url:
        yield url
