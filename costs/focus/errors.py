"""Errors of a FOCUS import, and finding the CSV line where one is.

Checks raise ``RowError`` with an index into the batch; the reader turns it into a
``FocusFileError`` that names the file, line (CSV) or row (Parquet) and the FOCUS column. Line
numbers come from a slow second pass over the text that only runs once something is wrong.
"""

from __future__ import annotations

import csv

from core.errors import ServiceError

from .files import text_stream


class FocusFileError(ServiceError):
    """The file cannot be imported; the message names the file, line and column."""

    code = "invalid_file"

    def __init__(self, message: str, *, filename: str, line: int | None = None, column=None):
        super().__init__(message, code=self.code)
        self.filename = filename
        self.line = line
        self.column = column


class RowError(Exception):
    """A bad value at ``index`` of the current batch, before line numbers are known."""

    def __init__(self, index: int, column: str, reason: str, value=None):
        super().__init__(reason)
        self.index = index
        self.column = column
        self.reason = reason
        self.value = value


def file_error(filename: str, message: str, *, line=None, column=None) -> FocusFileError:
    return FocusFileError(f"{filename}: {message}", filename=filename, line=line, column=column)


def value_error_at(
    filename: str, line: int, column: str, reason: str, value=None
) -> FocusFileError:
    shown = "" if value is None else f": {str(value)[:80]!r}"
    return FocusFileError(
        f"{filename}, line {line}, column {column}: {reason}{shown}",
        filename=filename,
        line=line,
        column=column,
    )


def csv_line_of(source, compressed: bool, row_index: int) -> int:
    """The physical line where data row ``row_index`` (0-based) starts."""
    with text_stream(source, compressed) as stream:
        reader = csv.reader(stream)
        next(reader, None)
        start = reader.line_num + 1
        for index, _ in enumerate(reader):
            if index == row_index:
                return start
            start = reader.line_num + 1
    return start


def csv_structural_error(
    source, compressed: bool, header: list[str], filename: str, arrow_error, block_bytes: int
) -> FocusFileError:
    """Locate what made Arrow give up on a CSV: a short/long row or undecodable bytes."""
    expected = len(header)
    try:
        with text_stream(source, compressed) as stream:
            reader = csv.reader(stream)
            next(reader, None)
            start = reader.line_num + 1
            for record in reader:
                if len(record) != expected:
                    return FocusFileError(
                        f"{filename}, line {start}: expected {expected} columns, "
                        f"found {len(record)}",
                        filename=filename,
                        line=start,
                    )
                # Arrow cannot hold a value longer than its read block.
                for position, value in enumerate(record):
                    if len(value) >= block_bytes // 4:
                        column = header[position].strip()
                        return value_error_at(
                            filename,
                            start,
                            column,
                            f"a value of {len(value):,} characters, longer than a FOCUS "
                            f"value may be ({block_bytes // 4 - 1:,} characters)",
                            value,
                        )
                start = reader.line_num + 1
    except UnicodeDecodeError:
        return file_error(filename, f"line {start}: not valid UTF-8 text", line=start)
    except (csv.Error, OSError, EOFError) as error:
        return file_error(filename, f"line {start}: {error}", line=start)
    return file_error(filename, f"cannot be read as CSV ({arrow_error})")
