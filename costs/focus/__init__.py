"""FOCUS exports (CSV, gzip or Parquet) read as batches of cost rows.

One concern a module:

- ``columns``: the FOCUS columns read and the cost-row columns they fill (``COPY_COLUMNS``).
- ``files``: opening a path or a file object, and telling CSV, gzip and Parquet apart.
- ``checks``: Arrow checks of a batch (text, amounts, dates, tags, providers).
- ``aws``: AWS dimensions (operating system, tenancy, instance family).
- ``batch``: ``FocusBatch`` and what the import learns from it (periods, dimension values).
- ``errors``: ``FocusFileError`` and finding the CSV line of a bad value.
- ``reader``: ``FocusReader``, ``open_focus`` and ``open_integration_files``.

Every name is importable from ``costs.focus``, as it was when this was one module.
"""

from .aws import (
    AWS_DETAIL_COLUMNS,
    AWS_OPERATION_SYSTEMS,
    AWS_TENANCY_NAMES,
    AWS_USAGE_TENANCY,
    aws_details,
)
from .batch import FocusBatch
from .checks import MAX_ABS_AMOUNT, NUMBER_RE, OFFSET_RE, TIMESTAMP_RE
from .columns import (
    COPY_COLUMNS,
    DATE_COLUMNS,
    DIMENSION_SOURCES,
    MANDATORY_COLUMNS,
    MAX_LENGTHS,
    MONEY_COLUMNS,
    PROVIDER_COLUMNS,
    QUANTITY_COLUMNS,
    SKU_DETAILS_COLUMN,
    TAGS_COLUMN,
    TEXT_COLUMNS,
    TRUNCATED_COLUMNS,
    provider_code,
)
from .errors import FocusFileError
from .reader import FocusReader, open_focus, open_integration_files

# The reader's tunables, read from here at call time (tests make the blocks small).
# Arrow's CSV reader holds a few dozen blocks' worth of memory: 4 MiB blocks keep an import near
# 350 MB of RSS whatever the file size (8 MiB: ~500 MB, for ~10% more speed).
CSV_BLOCK_BYTES = 4 * 1024 * 1024
PARQUET_BATCH_ROWS = 20_000

__all__ = [
    "AWS_DETAIL_COLUMNS",
    "AWS_OPERATION_SYSTEMS",
    "AWS_TENANCY_NAMES",
    "AWS_USAGE_TENANCY",
    "COPY_COLUMNS",
    "CSV_BLOCK_BYTES",
    "DATE_COLUMNS",
    "DIMENSION_SOURCES",
    "MANDATORY_COLUMNS",
    "MAX_ABS_AMOUNT",
    "MAX_LENGTHS",
    "MONEY_COLUMNS",
    "NUMBER_RE",
    "OFFSET_RE",
    "PARQUET_BATCH_ROWS",
    "PROVIDER_COLUMNS",
    "QUANTITY_COLUMNS",
    "SKU_DETAILS_COLUMN",
    "TAGS_COLUMN",
    "TEXT_COLUMNS",
    "TIMESTAMP_RE",
    "TRUNCATED_COLUMNS",
    "FocusBatch",
    "FocusFileError",
    "FocusReader",
    "aws_details",
    "open_focus",
    "open_integration_files",
    "provider_code",
]
