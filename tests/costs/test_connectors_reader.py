"""The ranged reader: seekable, buffered, and reading each byte about once when read in order."""

import io

import pyarrow as pa
import pyarrow.parquet as pq

from costs.connectors.reader import BUFFER_BYTES, open_ranged


class CountingObject:
    """An object store stand-in that counts requests and bytes sent."""

    def __init__(self, data: bytes):
        self.data = data
        self.requests = 0
        self.bytes_sent = 0

    def open_range(self, start: int):
        self.requests += 1
        owner = self

        class Body(io.BytesIO):
            def read(self, size=-1):
                chunk = super().read(size)
                owner.bytes_sent += len(chunk)
                return chunk

        return Body(self.data[start:])


def test_reading_in_order_is_one_request_and_each_byte_once():
    data = bytes(range(256)) * 40_000  # ~10 MB
    store = CountingObject(data)
    reader = open_ranged("big.csv", len(data), store.open_range)
    copied = b"".join(iter(lambda: reader.read(64 * 1024), b""))
    assert copied == data
    assert store.requests == 1 and store.bytes_sent == len(data)


def test_seeks_reopen_at_the_offset_and_read_only_a_buffer_ahead():
    data = bytes(range(256)) * 40_000
    store = CountingObject(data)
    reader = open_ranged("big.csv.gz", len(data), store.open_range)
    assert reader.read(4) == data[:4]
    reader.seek(-4, io.SEEK_END)
    assert reader.read(4) == data[-4:]
    reader.seek(0)
    assert reader.read(10) == data[:10]
    assert store.requests == 3
    assert store.bytes_sent <= 2 * BUFFER_BYTES + 4


def test_parquet_reads_footer_and_row_groups_through_ranges():
    table = pa.table({"BilledCost": list(range(100_000)), "ServiceName": ["EC2"] * 100_000})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=20_000)
    data = sink.getvalue()
    store = CountingObject(data)
    reader = open_ranged("part.parquet", len(data), store.open_range)
    assert pq.ParquetFile(reader).read().equals(table)
