"""Reading FOCUS exports: CSV (plain or gzip) and Parquet, streamed as Arrow batches.

``FocusReader`` turns a FOCUS 1.2/1.3 cost-and-usage file into batches shaped like the cost-row
table (``COPY_COLUMNS``), validating as it goes. The work is vectorised with pyarrow: the CSV
tokenizer, number and date checks and length checks run in C++, and Python only sees the few
distinct values of JSON columns (tags, SKU price details). A bad value is reported with the file
name, the line (CSV) or row (Parquet) and the FOCUS column; line numbers are found by a slow
second pass over the file that only runs once something is wrong.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

# The package holds the tunables (``CSV_BLOCK_BYTES``, ``PARQUET_BATCH_ROWS``); they are read
# from it at call time, so that a test can set ``costs.focus.CSV_BLOCK_BYTES``.
from .. import focus
from .aws import AWS_DETAIL_COLUMNS, aws_columns
from .batch import FocusBatch, describe
from .checks import (
    amount_text,
    as_text,
    check_length,
    check_nul,
    check_provider,
    column_or_empty,
    parse_tags,
    utc_dates,
)
from .columns import (
    COPY_COLUMNS,
    DATE_COLUMNS,
    MANDATORY_COLUMNS,
    MONEY_COLUMNS,
    PROVIDER_COLUMNS,
    QUANTITY_COLUMNS,
    SKU_DETAILS_COLUMN,
    TAGS_COLUMN,
    TEXT_COLUMNS,
)
from .errors import (
    FocusFileError,
    RowError,
    csv_line_of,
    csv_structural_error,
    file_error,
    value_error_at,
)
from .files import open_binary, sniff, text_size, text_stream


class FocusReader:
    """Streams one FOCUS file as ``FocusBatch`` objects for one integration."""

    def __init__(self, source, *, provider: str, organization_id, integration_id, filename=None):
        self.source = source
        self.filename = filename or (
            Path(source).name if isinstance(source, str | Path) else getattr(source, "name", "file")
        )
        self.provider = provider
        self.organization_id = organization_id.hex
        self.integration_id = integration_id.hex
        self.format = sniff(source)
        self.header = self._read_header()
        self._resolve_columns()
        self._rows_done = self._batches_done = 0
        if self.format == "parquet":
            self._total_rows = pq.ParquetFile(self._parquet_source()).metadata.num_rows
        else:
            self._text_bytes = text_size(source, self.format == "csv.gz")

    def progress(self) -> float:
        """How much of the file has been imported, from 0 to 1 (estimated for CSV)."""
        if self.format == "parquet":
            return min(1.0, self._rows_done / self._total_rows) if self._total_rows else 1.0
        # Each Arrow batch is one block of CSV text (Arrow reads ahead, so bytes read would lie).
        done = self._batches_done * focus.CSV_BLOCK_BYTES
        return min(1.0, done / self._text_bytes) if self._text_bytes else 1.0

    # -- header

    def _read_header(self) -> list[str]:
        if self.format == "parquet":
            return list(pq.ParquetFile(self._parquet_source()).schema_arrow.names)
        with text_stream(self.source, self.format == "csv.gz") as stream:
            try:
                header = next(csv.reader(stream), None)
            except (UnicodeDecodeError, csv.Error, OSError, EOFError) as error:
                raise self.error(f"cannot read the header ({error})", line=1) from None
        if not header:
            raise self.error("the file is empty; expected a FOCUS header line", line=1)
        return header

    def _parquet_source(self):
        if isinstance(self.source, str | Path):
            return str(self.source)
        self.source.seek(0)
        return self.source

    def _resolve_columns(self) -> None:
        by_lower: dict[str, str] = {}
        positions: dict[str, int] = {}
        for position, name in enumerate(self.header, 1):
            key = name.strip().lower()
            if key in positions and key:
                where = "line 1 (header)" if self.format != "parquet" else "schema"
                raise self.error(
                    f"{where}: column {name.strip()!r} appears more than once (columns "
                    f"{positions[key]} and {position}); each FOCUS column must appear once",
                    line=1,
                    column=name.strip(),
                )
            positions.setdefault(key, position)
            by_lower.setdefault(key, name)

        def find(*names: str) -> str | None:
            return next((by_lower[n.lower()] for n in names if n.lower() in by_lower), None)

        missing = [name for name in MANDATORY_COLUMNS if find(name) is None]
        if missing:
            where = "line 1 (header)" if self.format != "parquet" else "schema"
            raise self.error(
                f"{where}: missing mandatory FOCUS column{'s' if len(missing) > 1 else ''} "
                + ", ".join(missing),
                line=1,
                column=missing[0],
            )
        self.text_sources = {name: find(*aliases) for name, aliases in TEXT_COLUMNS.items()}
        self.money_sources = {name: find(focus) for name, focus in MONEY_COLUMNS.items()}
        self.quantity_sources = {name: find(focus) for name, focus in QUANTITY_COLUMNS.items()}
        self.date_sources = {name: find(focus) for name, focus in DATE_COLUMNS.items()}
        self.provider_sources = [c for c in (find(n) for n in PROVIDER_COLUMNS) if c]
        if not self.provider_sources:
            raise self.error(
                "line 1 (header): missing mandatory FOCUS column ProviderName",
                line=1,
                column="ProviderName",
            )
        self.tags_source = find(TAGS_COLUMN)
        self.aws_sources = (
            [find(SKU_DETAILS_COLUMN)] + [find(name) for name in AWS_DETAIL_COLUMNS]
            if self.provider == "aws"
            else []
        )
        wanted = [
            *self.text_sources.values(),
            *self.money_sources.values(),
            *self.quantity_sources.values(),
            *self.date_sources.values(),
            *self.provider_sources,
            self.tags_source,
            *self.aws_sources,
        ]
        self.read_columns = list(dict.fromkeys(name for name in wanted if name))

    def focus_column(self, model_column: str) -> str:
        """The file's column that fed ``model_column`` (for database errors)."""
        sources = {
            **self.text_sources,
            **self.money_sources,
            **self.quantity_sources,
            **self.date_sources,
            "tags": self.tags_source,
        }
        return sources.get(model_column) or model_column

    # -- errors

    def error(self, message: str, *, line=None, column=None) -> FocusFileError:
        return file_error(self.filename, message, line=line, column=column)

    def row_error(self, row_index: int, column: str, reason: str, value=None) -> FocusFileError:
        shown = "" if value is None else f": {str(value)[:80]!r}"
        if self.format == "parquet":
            where, line = f"row {row_index + 1}", None
        else:
            line = self.line_of(row_index)
            where = f"line {line}"
        return FocusFileError(
            f"{self.filename}, {where}, column {column}: {reason}{shown}",
            filename=self.filename,
            line=line,
            column=column,
        )

    def row_error_at(self, line: int, column: str, reason: str, value=None) -> FocusFileError:
        return value_error_at(self.filename, line, column, reason, value)

    def line_of(self, row_index: int) -> int:
        """The physical line where data row ``row_index`` (0-based) starts."""
        return csv_line_of(self.source, self.format == "csv.gz", row_index)

    def _structural_error(self, arrow_error: Exception) -> FocusFileError:
        """Locate what made Arrow give up on a CSV: a short/long row or undecodable bytes."""
        return csv_structural_error(
            self.source,
            self.format == "csv.gz",
            self.header,
            self.filename,
            arrow_error,
            focus.CSV_BLOCK_BYTES,
        )

    # -- batches

    def _arrow_batches(self) -> Iterator[pa.RecordBatch]:
        if self.format == "parquet":
            parquet = pq.ParquetFile(self._parquet_source())
            yield from parquet.iter_batches(
                batch_size=focus.PARQUET_BATCH_ROWS, columns=self.read_columns
            )
            return
        compression = "gzip" if self.format == "csv.gz" else None
        if isinstance(self.source, str | Path):
            stream = pa.input_stream(str(self.source), compression=compression)
        else:
            stream = pa.PythonFile(open_binary(self.source), mode="r")
            if compression:
                stream = pa.CompressedInputStream(stream, compression)
        reader = pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(block_size=focus.CSV_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in self.read_columns},
                include_columns=self.read_columns,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        try:
            yield from reader
        finally:
            reader.close()

    def batches(self) -> Iterator[FocusBatch]:
        first_row = 0
        batches = self._arrow_batches()
        while True:
            try:
                record_batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError, EOFError) as error:
                if self.format == "parquet":
                    raise self.error(f"cannot be read as Parquet ({error})") from None
                raise self._structural_error(error) from None
            if record_batch.num_rows == 0:
                continue
            try:
                batch = self._convert(record_batch, first_row)
            except RowError as error:
                raise self.row_error(
                    first_row + error.index, error.column, error.reason, error.value
                ) from None
            first_row += record_batch.num_rows
            self._rows_done = first_row
            self._batches_done += 1
            yield batch

    def _convert(self, record_batch: pa.RecordBatch, first_row: int) -> FocusBatch:
        rows = record_batch.num_rows
        for name in self.read_columns:
            check_nul(record_batch.column(name), name)
        check_provider(record_batch, self.provider_sources, self.provider)
        columns: dict[str, pa.Array] = {
            "organization_id": pa.repeat(self.organization_id, rows).cast(pa.string()),
            "integration_id": pa.repeat(self.integration_id, rows).cast(pa.string()),
            "provider": pa.repeat(self.provider, rows).cast(pa.string()),
        }
        for name, source in self.text_sources.items():
            values = as_text(column_or_empty(record_batch, source))
            columns[name] = check_length(values, name, source or name)
        for name, source in self.money_sources.items():
            amounts = amount_text(
                record_batch.column(source),
                source,
                required=name in ("billed_cost", "effective_cost"),
            )
            columns[name] = pc.fill_null(amounts, "0")
        for name, source in self.quantity_sources.items():
            columns[name] = (
                amount_text(record_batch.column(source), source, required=False)
                if source
                else pa.nulls(rows, pa.string())
            )
        for name, source in self.date_sources.items():
            columns[name] = utc_dates(record_batch.column(source), source)
        if self.tags_source:
            tags_text, parsed_tags = parse_tags(
                record_batch.column(self.tags_source), self.tags_source
            )
        else:
            tags_text, parsed_tags = pa.repeat("{}", rows).cast(pa.string()), {"{}": {}}
        columns["tags"] = tags_text
        columns.update(aws_columns(record_batch, self.provider, self.aws_sources))
        table = pa.Table.from_pydict({name: columns[name] for name in COPY_COLUMNS})
        return describe(table, first_row, parsed_tags)


def open_focus(source, *, provider: str, organization_id, integration_id, filename=None):
    """Open a FOCUS file (path or seekable binary file) and check its header."""
    return FocusReader(
        source,
        provider=provider,
        organization_id=organization_id,
        integration_id=integration_id,
        filename=filename,
    )


def open_integration_files(integration, sources, filenames: list[str] | None = None) -> list:
    """Readers of one integration's FOCUS files (one file or a list: an export in parts)."""
    sources = list(sources) if isinstance(sources, list | tuple) else [sources]
    names = filenames or [None] * len(sources)
    return [
        open_focus(
            source,
            provider=integration.provider,
            organization_id=integration.organization_id,
            integration_id=integration.pk,
            filename=name,
        )
        for source, name in zip(sources, names, strict=True)
    ]
