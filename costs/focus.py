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
import gzip
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from core.errors import ServiceError
from core.params import contains_nul

from .models import CostRow, DimensionField

# Arrow's CSV reader holds a few dozen blocks' worth of memory: 4 MiB blocks keep an import near
# 350 MB of RSS whatever the file size (8 MiB: ~500 MB, for ~10% more speed).
CSV_BLOCK_BYTES = 4 * 1024 * 1024
PARQUET_BATCH_ROWS = 20_000
# numeric(28, 10): 18 digits before the decimal point.
MAX_ABS_AMOUNT = 1e18

PROVIDER_COLUMNS = ("ProviderName", "HostProviderName", "InvoiceIssuerName", "ServiceProviderName")
MONEY_COLUMNS = {
    "billed_cost": "BilledCost",
    "effective_cost": "EffectiveCost",
    "list_cost": "ListCost",
    "contracted_cost": "ContractedCost",
}
QUANTITY_COLUMNS = {"pricing_quantity": "PricingQuantity", "consumed_quantity": "ConsumedQuantity"}
DATE_COLUMNS = {
    "charge_period_start": "ChargePeriodStart",
    "billing_period_start": "BillingPeriodStart",
}
# Model column -> FOCUS column names (first present wins; older FOCUS names after the current).
TEXT_COLUMNS = {
    "billing_account_id": ("BillingAccountId",),
    "billing_account_name": ("BillingAccountName",),
    "sub_account_id": ("SubAccountId",),
    "sub_account_name": ("SubAccountName",),
    "service_name": ("ServiceName",),
    "service_category": ("ServiceCategory",),
    "service_subcategory": ("ServiceSubcategory",),
    "region_id": ("RegionId", "Region"),
    "resource_id": ("ResourceId",),
    "resource_type": ("ResourceType",),
    "sku_id": ("SkuId",),
    "charge_category": ("ChargeCategory",),
    "charge_class": ("ChargeClass",),
    "charge_description": ("ChargeDescription",),
    "pricing_category": ("PricingCategory",),
    "commitment_discount_id": ("CommitmentDiscountId",),
    "commitment_discount_type": ("CommitmentDiscountType",),
    "pricing_unit": ("PricingUnit",),
    "consumed_unit": ("ConsumedUnit",),
    "billing_currency": ("BillingCurrency",),
}
# Free text is cut to fit; identifiers that do not fit are an error.
TRUNCATED_COLUMNS = {"charge_description"}
MANDATORY_COLUMNS = (
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BilledCost",
    "ChargeCategory",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "ServiceName",
)
TAGS_COLUMN = "Tags"
SKU_DETAILS_COLUMN = "SkuPriceDetails"
# AWS columns that carry (or let us derive) operating system, tenancy and instance family.
AWS_DETAIL_COLUMNS = (
    "x_OperatingSystem",
    "x_Tenancy",
    "x_InstanceFamily",
    "x_InstanceType",
    "x_UsageType",
    "x_Operation",
)

COPY_COLUMNS = (
    "organization_id",
    "integration_id",
    "provider",
    *TEXT_COLUMNS,
    *MONEY_COLUMNS,
    *QUANTITY_COLUMNS,
    *DATE_COLUMNS,
    "tags",
    "operating_system",
    "tenancy",
    "instance_family",
)
MAX_LENGTHS = {
    name: CostRow._meta.get_field(name).max_length
    for name in (*TEXT_COLUMNS, "operating_system", "tenancy", "instance_family")
}
# Which batch column feeds each dimension (see ``DimensionValue``).
DIMENSION_SOURCES = {
    DimensionField.ACCOUNT_ID: "sub_account_id",
    DimensionField.BILLING_ACCOUNT_ID: "billing_account_id",
    DimensionField.SERVICE: "service_name",
    DimensionField.SERVICE_CATEGORY: "service_category",
    DimensionField.REGION: "region_id",
    DimensionField.CHARGE_CATEGORY: "charge_category",
    DimensionField.PRICING_CATEGORY: "pricing_category",
    DimensionField.OPERATING_SYSTEM: "operating_system",
    DimensionField.TENANCY: "tenancy",
    DimensionField.INSTANCE_FAMILY: "instance_family",
}

NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
TIMESTAMP_RE = (
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$"
)
OFFSET_RE = r"(Z|[+-]\d{2}(:?\d{2})?)$"


def provider_code(name: str) -> str | None:
    """Map a FOCUS ProviderName ("AWS", "Microsoft Azure", "Google Cloud", ...) to our code."""
    lowered = name.strip().lower()
    if lowered in ("aws", "amazon web services") or lowered.startswith("amazon"):
        return "aws"
    if "azure" in lowered or lowered.startswith("microsoft"):
        return "azure"
    if lowered in ("gcp", "google cloud platform") or lowered.startswith("google"):
        return "gcp"
    return None


class FocusFileError(ServiceError):
    """The file cannot be imported; the message names the file, line and column."""

    code = "invalid_file"

    def __init__(self, message: str, *, filename: str, line: int | None = None, column=None):
        super().__init__(message, code=self.code)
        self.filename = filename
        self.line = line
        self.column = column


class _RowError(Exception):
    """A bad value at ``index`` of the current batch, before line numbers are known."""

    def __init__(self, index: int, column: str, reason: str, value=None):
        super().__init__(reason)
        self.index = index
        self.column = column
        self.reason = reason
        self.value = value


@dataclass
class FocusBatch:
    """Rows ready for the cost-row table, with what the import needs to know about them."""

    table: pa.Table
    first_row: int
    billing_periods: set[date]
    months: set[date]
    # (billing period, field, key, value)
    dimension_values: set[tuple[date, str, str, str]] = field(default_factory=set)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


# --------------------------------------------------------------------------- opening files


def _open_binary(source) -> BinaryIO:
    if isinstance(source, str | Path):
        return open(source, "rb")  # noqa: SIM115 - closed by the reader
    source.seek(0)
    return source


def _sniff(source) -> str:
    handle = _open_binary(source)
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
def _text_stream(source, compressed: bool) -> Iterator[io.TextIOWrapper]:
    """The file as text, for the csv module; a caller's own file object is left open."""
    handle = _open_binary(source)
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


def _text_size(source, compressed: bool) -> int:
    """Bytes of CSV text in the file (gzip keeps the size, modulo 4 GiB, in its last 4 bytes)."""
    handle = _open_binary(source)
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


# --------------------------------------------------------------------------- value checks

# Arrow reads fields of any length; the csv module, which reads the header and finds line
# numbers for error messages, must not give up first (its default limit is 128 KiB). The
# setting is process-wide; nothing else here parses CSV it does not trust less.
csv.field_size_limit(2**31 - 1)


def _check_nul(values: pa.Array, focus_name: str) -> None:
    """PostgreSQL text holds no NUL character: refuse it here, with its line and column."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return
    has_nul = pc.fill_null(pc.match_substring(values, "\x00"), False)
    if pc.any(has_nul).as_py():
        index = _first(has_nul)
        raise _RowError(index, focus_name, "contains a NUL character", values[index].as_py())


def _first(mask: pa.Array) -> int:
    return pc.index(mask, True).as_py()


def _check_length(values: pa.Array, name: str, focus_name: str) -> pa.Array:
    limit = MAX_LENGTHS[name]
    too_long = pc.greater(pc.utf8_length(values), limit)
    if not pc.any(too_long).as_py():
        return values
    if name in TRUNCATED_COLUMNS:
        return pc.utf8_slice_codeunits(values, 0, limit)
    index = _first(too_long)
    raise _RowError(index, focus_name, f"longer than {limit} characters", values[index].as_py())


def _as_text(values: pa.Array) -> pa.Array:
    """Any Arrow column as non-null strings ("" for null)."""
    if pa.types.is_null(values.type):
        return pa.repeat("", len(values)).cast(pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return pc.fill_null(values, "").cast(pa.string())


def _amounts(values: pa.Array, focus_name: str, *, required: bool) -> pa.Array:
    """Validated decimal text (null for an empty optional amount)."""
    text = _as_text(values)
    empty = pc.equal(text, "")
    has_empty = pc.any(empty).as_py()
    if required and has_empty:
        raise _RowError(_first(empty), focus_name, "is empty; FOCUS requires a value", "")
    try:
        # Fast path: Arrow's number parser accepts the column as it is.
        numbers = pc.cast(pc.if_else(empty, "0", text) if has_empty else text, pa.float64())
    except pa.ArrowInvalid:
        numbers = None
    if numbers is None or not pc.all(pc.is_finite(numbers)).as_py():
        invalid = pc.and_(pc.invert(empty), pc.invert(pc.match_substring_regex(text, NUMBER_RE)))
        if pc.any(invalid).as_py():
            index = _first(invalid)
            raise _RowError(index, focus_name, "not a number", text[index].as_py())
        numbers = pc.cast(pc.if_else(empty, "0", text), pa.float64())
    too_big = pc.invert(pc.less(pc.abs(numbers), MAX_ABS_AMOUNT))
    if pc.any(too_big).as_py():
        index = _first(too_big)
        raise _RowError(
            index, focus_name, "too large (at most 18 integer digits)", text[index].as_py()
        )
    return pc.if_else(empty, pa.scalar(None, pa.string()), text) if has_empty else text


def _dates(values: pa.Array, focus_name: str) -> pa.Array:
    """The UTC calendar day of each timestamp, as date32."""
    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        missing = pc.is_null(values)
        if pc.any(missing).as_py():
            raise _RowError(_first(missing), focus_name, "is empty; FOCUS requires a value", "")
        return pc.cast(values, pa.date32())
    text = _as_text(values)
    try:
        # Fast path: ISO 8601 timestamps with "Z" or an offset, as FOCUS requires.
        return pc.cast(pc.cast(text, pa.timestamp("ns", tz="UTC")), pa.date32())
    except pa.ArrowInvalid:
        pass
    invalid = pc.invert(pc.match_substring_regex(text, TIMESTAMP_RE))
    if pc.any(invalid).as_py():
        index = _first(invalid)
        value = text[index].as_py()
        reason = "is empty; FOCUS requires a value" if not value else "not a date/time"
        raise _RowError(index, focus_name, reason, value)
    # Normalise "YYYY-MM-DD[ hh:mm[:ss]]" to ISO 8601; a timestamp without offset is UTC.
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}) ", r"\1T")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2})$", r"\1T00:00:00")
    text = pc.replace_substring_regex(text, r"\s+(Z|[+-]\d)", r"\1")
    text = pc.if_else(
        pc.match_substring_regex(text, OFFSET_RE), text, pc.binary_join_element_wise(text, "Z", "")
    )
    try:
        return pc.cast(pc.cast(text, pa.timestamp("ns", tz="UTC")), pa.date32())
    except pa.ArrowInvalid:
        _raise_first_bad_date(text, focus_name)


def _raise_first_bad_date(text: pa.Array, focus_name: str):
    for index, value in enumerate(text.to_pylist()):
        try:
            pc.cast(
                pa.array([value]), pa.date32() if len(value) == 10 else pa.timestamp("ns", "UTC")
            )
        except pa.ArrowInvalid:
            raise _RowError(index, focus_name, "not a valid date/time", value) from None
    raise _RowError(0, focus_name, "not a valid date/time", text[0].as_py())


def _tags(values: pa.Array, focus_name: str) -> tuple[pa.Array, dict[str, dict]]:
    """JSON text of each row's tags, and the parsed distinct tag objects."""
    if pa.types.is_map(values.type) or pa.types.is_struct(values.type):
        as_json = []
        for item in values.to_pylist():
            if item is None:
                as_json.append("{}")
                continue
            pairs = item if isinstance(item, list) else item.items()
            as_json.append(json.dumps({str(k): v for k, v in pairs if v is not None}))
        values = pa.array(as_json, pa.string())
    text = _as_text(values)
    text = pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), "{}", text)
    parsed: dict[str, dict] = {}
    for raw in pc.unique(text).to_pylist():
        try:
            tags = json.loads(raw)
        except ValueError as error:
            raise _RowError(
                pc.index(text, raw).as_py(), focus_name, f"not valid JSON ({error.msg})", raw
            ) from None
        if not isinstance(tags, dict):
            raise _RowError(pc.index(text, raw).as_py(), focus_name, "not a JSON object", raw)
        if contains_nul(tags):  # an escaped \u0000, which PostgreSQL's jsonb refuses
            raise _RowError(
                pc.index(text, raw).as_py(), focus_name, "contains a NUL character", raw
            )
        parsed[raw] = tags
    return text, parsed


# --------------------------------------------------------------------------- AWS details

# EC2 operation codes of the platform (https://docs.aws.amazon.com/cur, "Operation" column).
AWS_OPERATION_SYSTEMS = {
    "": "Linux",
    "0002": "Windows",
    "0004": "Linux",
    "0006": "Windows",
    "0010": "RHEL",
    "0102": "Windows",
    "0202": "Windows",
    "000g": "SUSE",
    "0800": "Windows",
    "1010": "RHEL",
    "1014": "RHEL",
}
AWS_USAGE_TENANCY = {
    "BoxUsage": "Shared",
    "SpotUsage": "Shared",
    "DedicatedUsage": "Dedicated",
    "HostUsage": "Host",
    "HostBoxUsage": "Host",
    "ReservedHostUsage": "Host",
}
AWS_TENANCY_NAMES = {
    "shared": "Shared",
    "default": "Shared",
    "dedicated": "Dedicated",
    "host": "Host",
}


def _instance_family(instance_type: str) -> str:
    """ "m6i.large" -> "m6i"; "db.r6g.large" -> "r6g" (RDS/ElastiCache prefixes dropped)."""
    parts = [part for part in instance_type.split(".") if part]
    if len(parts) >= 3 and parts[0] in ("db", "cache", "ml", "search"):
        parts = parts[1:]
    return parts[0].lower() if len(parts) >= 2 else ""


def aws_details(
    sku_price_details: str,
    operating_system: str = "",
    tenancy: str = "",
    instance_family: str = "",
    instance_type: str = "",
    usage_type: str = "",
    operation: str = "",
) -> tuple[str, str, str]:
    """(operating system, tenancy, instance family) of an AWS row.

    Explicit values win (``x_`` columns, then ``SkuPriceDetails``); otherwise they are derived
    from the usage type ("USE1-BoxUsage:m5.large") and the EC2 operation ("RunInstances:0002").
    """
    try:
        details = json.loads(sku_price_details) if sku_price_details else {}
    except ValueError:
        details = {}
    if not isinstance(details, dict):
        details = {}
    operating_system = operating_system or str(
        details.get("OperatingSystem") or details.get("x_OperatingSystem") or ""
    )
    tenancy = tenancy or str(details.get("x_Tenancy") or details.get("Tenancy") or "")
    instance_type = instance_type or str(details.get("InstanceType") or "")
    usage_kind, _, usage_instance = usage_type.partition(":")
    usage_kind = usage_kind.rsplit("-", 1)[-1]
    if not instance_type and usage_kind in AWS_USAGE_TENANCY:
        instance_type = usage_instance
    if not tenancy and usage_kind in AWS_USAGE_TENANCY:
        tenancy = AWS_USAGE_TENANCY[usage_kind]
    tenancy = AWS_TENANCY_NAMES.get(tenancy.lower(), tenancy)
    if not operating_system and operation.startswith("RunInstances"):
        operating_system = AWS_OPERATION_SYSTEMS.get(operation.partition(":")[2], "")
    instance_family = instance_family or _instance_family(instance_type)
    if not instance_family and details.get("InstanceSeries"):
        instance_family = str(details["InstanceSeries"]).lower()
    return operating_system, tenancy, instance_family


# --------------------------------------------------------------------------- the reader


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
        self.format = _sniff(source)
        self.header = self._read_header()
        self._resolve_columns()
        self._rows_done = self._batches_done = 0
        if self.format == "parquet":
            self._total_rows = pq.ParquetFile(self._parquet_source()).metadata.num_rows
        else:
            self._text_bytes = _text_size(source, self.format == "csv.gz")

    def progress(self) -> float:
        """How much of the file has been imported, from 0 to 1 (estimated for CSV)."""
        if self.format == "parquet":
            return min(1.0, self._rows_done / self._total_rows) if self._total_rows else 1.0
        # Each Arrow batch is one block of CSV text (Arrow reads ahead, so bytes read would lie).
        done = self._batches_done * CSV_BLOCK_BYTES
        return min(1.0, done / self._text_bytes) if self._text_bytes else 1.0

    # -- header

    def _read_header(self) -> list[str]:
        if self.format == "parquet":
            return list(pq.ParquetFile(self._parquet_source()).schema_arrow.names)
        with _text_stream(self.source, self.format == "csv.gz") as stream:
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
        return FocusFileError(
            f"{self.filename}: {message}", filename=self.filename, line=line, column=column
        )

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
        shown = "" if value is None else f": {str(value)[:80]!r}"
        return FocusFileError(
            f"{self.filename}, line {line}, column {column}: {reason}{shown}",
            filename=self.filename,
            line=line,
            column=column,
        )

    def line_of(self, row_index: int) -> int:
        """The physical line where data row ``row_index`` (0-based) starts."""
        with _text_stream(self.source, self.format == "csv.gz") as stream:
            reader = csv.reader(stream)
            next(reader, None)
            start = reader.line_num + 1
            for index, _ in enumerate(reader):
                if index == row_index:
                    return start
                start = reader.line_num + 1
        return start

    def _structural_error(self, arrow_error: Exception) -> FocusFileError:
        """Locate what made Arrow give up on a CSV: a short/long row or undecodable bytes."""
        expected = len(self.header)
        try:
            with _text_stream(self.source, self.format == "csv.gz") as stream:
                reader = csv.reader(stream)
                next(reader, None)
                start = reader.line_num + 1
                for record in reader:
                    if len(record) != expected:
                        return FocusFileError(
                            f"{self.filename}, line {start}: expected {expected} columns, "
                            f"found {len(record)}",
                            filename=self.filename,
                            line=start,
                        )
                    # Arrow cannot hold a value longer than its read block.
                    for position, value in enumerate(record):
                        if len(value) >= CSV_BLOCK_BYTES // 4:
                            column = self.header[position].strip()
                            return self.row_error_at(
                                start,
                                column,
                                f"a value of {len(value):,} characters, longer than a FOCUS "
                                f"value may be ({CSV_BLOCK_BYTES // 4 - 1:,} characters)",
                                value,
                            )
                    start = reader.line_num + 1
        except UnicodeDecodeError:
            return self.error(f"line {start}: not valid UTF-8 text", line=start)
        except (csv.Error, OSError, EOFError) as error:
            return self.error(f"line {start}: {error}", line=start)
        return self.error(f"cannot be read as CSV ({arrow_error})")

    # -- batches

    def _arrow_batches(self) -> Iterator[pa.RecordBatch]:
        if self.format == "parquet":
            parquet = pq.ParquetFile(self._parquet_source())
            yield from parquet.iter_batches(
                batch_size=PARQUET_BATCH_ROWS, columns=self.read_columns
            )
            return
        compression = "gzip" if self.format == "csv.gz" else None
        if isinstance(self.source, str | Path):
            stream = pa.input_stream(str(self.source), compression=compression)
        else:
            stream = pa.PythonFile(_open_binary(self.source), mode="r")
            if compression:
                stream = pa.CompressedInputStream(stream, compression)
        reader = pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
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
            except _RowError as error:
                raise self.row_error(
                    first_row + error.index, error.column, error.reason, error.value
                ) from None
            first_row += record_batch.num_rows
            self._rows_done = first_row
            self._batches_done += 1
            yield batch

    def _column(self, record_batch: pa.RecordBatch, name: str | None) -> pa.Array:
        if name is None:
            return pa.repeat("", record_batch.num_rows).cast(pa.string())
        return record_batch.column(name)

    def _check_provider(self, record_batch: pa.RecordBatch) -> None:
        names = _as_text(record_batch.column(self.provider_sources[0]))
        for other in self.provider_sources[1:]:
            names = pc.if_else(pc.equal(names, ""), _as_text(record_batch.column(other)), names)
        for name in pc.unique(names).to_pylist():
            code = provider_code(name) if name else None
            if code == self.provider:
                continue
            index = pc.index(names, name).as_py()
            column = next(
                (
                    c
                    for c in self.provider_sources
                    if _as_text(record_batch.column(c))[index].as_py() == name
                ),
                self.provider_sources[0],
            )
            if code is None:
                reason = "unknown provider" if name else "no provider name"
            else:
                reason = f"a row of provider {code} in a {self.provider} integration"
            raise _RowError(index, column, reason, name)

    def _convert(self, record_batch: pa.RecordBatch, first_row: int) -> FocusBatch:
        rows = record_batch.num_rows
        for name in self.read_columns:
            _check_nul(record_batch.column(name), name)
        self._check_provider(record_batch)
        columns: dict[str, pa.Array] = {
            "organization_id": pa.repeat(self.organization_id, rows).cast(pa.string()),
            "integration_id": pa.repeat(self.integration_id, rows).cast(pa.string()),
            "provider": pa.repeat(self.provider, rows).cast(pa.string()),
        }
        for name, source in self.text_sources.items():
            values = _as_text(self._column(record_batch, source))
            columns[name] = _check_length(values, name, source or name)
        for name, source in self.money_sources.items():
            amounts = _amounts(
                record_batch.column(source),
                source,
                required=name in ("billed_cost", "effective_cost"),
            )
            columns[name] = pc.fill_null(amounts, "0")
        for name, source in self.quantity_sources.items():
            columns[name] = (
                _amounts(record_batch.column(source), source, required=False)
                if source
                else pa.nulls(rows, pa.string())
            )
        for name, source in self.date_sources.items():
            columns[name] = _dates(record_batch.column(source), source)
        if self.tags_source:
            tags_text, parsed_tags = _tags(record_batch.column(self.tags_source), self.tags_source)
        else:
            tags_text, parsed_tags = pa.repeat("{}", rows).cast(pa.string()), {"{}": {}}
        columns["tags"] = tags_text
        columns.update(self._aws_columns(record_batch))
        table = pa.Table.from_pydict({name: columns[name] for name in COPY_COLUMNS})
        return self._describe(table, first_row, parsed_tags)

    def _aws_columns(self, record_batch: pa.RecordBatch) -> dict[str, pa.Array]:
        rows = record_batch.num_rows
        if self.provider != "aws":
            empty = pa.repeat("", rows).cast(pa.string())
            return {"operating_system": empty, "tenancy": empty, "instance_family": empty}
        sources = [_as_text(self._column(record_batch, name)) for name in self.aws_sources]
        keys = pc.dictionary_encode(pc.binary_join_element_wise(*sources, "\x1f"))
        derived = [aws_details(*key.split("\x1f")) for key in keys.dictionary.to_pylist()]
        result = {}
        for position, name in enumerate(("operating_system", "tenancy", "instance_family")):
            limit = MAX_LENGTHS[name]
            values = pa.array([item[position][:limit] for item in derived], pa.string())
            result[name] = pc.take(values, keys.indices)
        return result

    def _describe(self, table: pa.Table, first_row: int, parsed_tags: dict) -> FocusBatch:
        billing_periods = set(pc.unique(table.column("billing_period_start")).to_pylist())
        months = {
            day.replace(day=1) for day in pc.unique(table.column("charge_period_start")).to_pylist()
        }
        columns = [*DIMENSION_SOURCES.values(), "tags"]
        if len(billing_periods) == 1:
            (period,) = billing_periods
            distinct = {
                column: [(period, value) for value in pc.unique(table.column(column)).to_pylist()]
                for column in columns
            }
        else:
            distinct = {}
            for column in columns:
                pairs = (
                    table.select(["billing_period_start", column])
                    .group_by(["billing_period_start", column])
                    .aggregate([])
                )
                distinct[column] = list(
                    zip(pairs.column(0).to_pylist(), pairs.column(1).to_pylist(), strict=True)
                )
        dimension_values: set[tuple[date, str, str, str]] = set()
        for field_name, column in DIMENSION_SOURCES.items():
            for period, value in distinct[column]:
                if value:
                    dimension_values.add((period, str(field_name), "", value))
        # Account names (SubAccountName) by account id: key the id, value the name.
        names = (
            table.select(["billing_period_start", "sub_account_id", "sub_account_name"])
            .group_by(["billing_period_start", "sub_account_id", "sub_account_name"])
            .aggregate([])
            .select(["billing_period_start", "sub_account_id", "sub_account_name"])
        )
        for period, account, name in zip(
            *(column.to_pylist() for column in names.columns),
            strict=True,
        ):
            if account and name:
                dimension_values.add(
                    (period, DimensionField.ACCOUNT_NAME.value, account[:255], name[:512])
                )
        for period, raw in distinct["tags"]:
            for key, value in parsed_tags[raw].items():
                text = value if isinstance(value, str) else json.dumps(value)
                dimension_values.add((period, DimensionField.TAG.value, str(key)[:255], text[:512]))
        return FocusBatch(table, first_row, billing_periods, months, dimension_values)


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
