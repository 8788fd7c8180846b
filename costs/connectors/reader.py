"""A seekable, buffered file over an object in a store, read with ranged requests.

The importer needs seekable files (it sniffs the format, reads the header, and Parquet reads
its footer first). Sequential reads keep one streaming response open; a seek elsewhere closes
it and the next read opens a ranged request at the new offset. Nothing is kept beyond the
buffer: the object is never held whole in memory or on disk.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Protocol


class Stream(Protocol):
    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


BUFFER_BYTES = 1 << 20


class RangedObject(io.RawIOBase):
    """``open_range(start)`` returns a stream of the object's bytes from ``start`` to its end."""

    def __init__(self, name: str, size: int, open_range: Callable[[int], Stream]):
        self.name = name
        self.size = size
        self._open_range = open_range
        self._position = 0
        self._stream: Stream | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        position = max(0, base + offset)
        if position != self._position:
            self._drop_stream()
            self._position = position
        return position

    def readinto(self, buffer) -> int:
        if self._position >= self.size:
            return 0
        if self._stream is None:
            self._stream = self._open_range(self._position)
        data = self._stream.read(len(buffer))
        if not data:
            return 0
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._drop_stream()
        super().close()

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def open_ranged(name: str, size: int, open_range: Callable[[int], Stream]) -> io.BufferedReader:
    reader = io.BufferedReader(RangedObject(name, size, open_range), buffer_size=BUFFER_BYTES)
    return reader
