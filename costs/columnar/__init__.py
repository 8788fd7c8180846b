"""The columnar cost store: FOCUS rows as Parquet partitions, read by an in-process ClickHouse.

See docs/columnar.md. ``store`` writes partitions and keeps their manifest, ``sql`` holds the
dialect's quoting and parameter rules, ``query`` is the one module readers go through.
"""
