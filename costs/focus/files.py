"""Opening a FOCUS file: a path or a caller's seekable binary file, CSV (plain or gzip) or
Parquet, told apart by their first bytes."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# Arrow reads fields of any length; the csv module, which reads the header and finds line
# numbers for error messages, must not give up first (its default limit is 128 KiB). The
# setting is process-wide; nothing else here parses CSV it does not trust less.
csv.field_size_limit(2**31 - 1)


def open_binary(source) -> BinaryIO:
    if isinstance(source, str | Path):
        return open(source, "rb")  # noqa: SIM115 - closed by the reader
    source.seek(0)
    return source


def sniff(source) -> str:
    handle = open_binary(source)
    try:
        head = handle.read(4)
    finally:
        if isinstance(source, str | Path):
            handle.close()
        else:
            source.seek(0)
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    return "csv"


@contextmanager
def text_stream(source, compressed: bool) -> Iterator[io.TextIOWrapper]:
    """The file as text, for the csv module; a caller's own file object is left open."""
    handle = open_binary(source)
    owned = isinstance(source, str | Path)
    binary = gzip.GzipFile(fileobj=handle, mode="rb") if compressed else handle
    stream = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield stream
    finally:
        if owned or compressed:
            stream.close()
        else:
            stream.detach()
        if owned:
            handle.close()


def text_size(source, compressed: bool) -> int:
    """Bytes of CSV text in the file (gzip keeps the size, modulo 4 GiB, in its last 4 bytes)."""
    handle = open_binary(source)
    try:
        size = handle.seek(0, io.SEEK_END)
        if compressed and size >= 4:
            handle.seek(-4, io.SEEK_END)
            size = int.from_bytes(handle.read(4), "little")
        return size
    finally:
        if isinstance(source, str | Path):
            handle.close()
        else:
            source.seek(0)
