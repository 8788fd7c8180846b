"""Files follow their manifest rows: when a partition row is deleted (its integration or
organization deleted, or a generation retired), its Parquet files go once the deletion commits."""

from pathlib import Path

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import ColumnarPartition
from .store import remove_files, store_root


@receiver(post_delete, sender=ColumnarPartition, dispatch_uid="columnar-partition-files")
def partition_files_remove(sender, instance: ColumnarPartition, using, **kwargs) -> None:
    root = store_root()
    files = [Path(name) for name in (*instance.files, *instance.rollup_files)]
    transaction.on_commit(lambda: remove_files(root, files), using=using)
