"""The manifest of the columnar store: which Parquet files hold which cost rows."""

from django.db import models
from django.db.models import Q

from costs.models import Integration, Provider
from organizations.models import Organization


class ColumnarPartition(models.Model):
    """The Parquet files of one integration's billing period, one generation of them.

    An import writes a new generation's files, then, in one transaction, marks the previous
    generation inactive and this one active; readers only ever read active files, so they see
    the old rows or the new ones, never a mix. Inactive rows and their files are removed once
    the grace period after their replacement has passed (``store.store_sweep``). ``files`` are
    paths relative to the store's root (``COSTLINE_COLUMNAR_ROOT``).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="columnar_partitions"
    )
    provider = models.CharField(max_length=8, choices=Provider.choices)
    billing_period_start = models.DateField()
    generation = models.PositiveIntegerField()
    files = models.JSONField(default=list)
    # The daily rollup of the same rows (``store.ROLLUP_COLUMNS`` with their sums): what the
    # explorer and the costs API read when a question needs no resource-level rows.
    rollup_files = models.JSONField(default=list)
    # First days of the months the rows' charge periods fall in (what a replacement touches).
    months = models.JSONField(default=list)
    # The billing currencies of the rows (pages label sums without reading any row).
    currencies = models.JSONField(default=list)
    row_count = models.BigIntegerField(default=0)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a newer generation replaced this one; its files stay readable for a grace period
    # (queries that started before the switch finish), then ``store.store_sweep`` removes them.
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # What the admin's delete summaries count ("12 billing periods of cost rows").
        verbose_name = "billing period of cost rows"
        verbose_name_plural = "billing periods of cost rows"
        ordering = ["integration", "billing_period_start", "generation"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "billing_period_start", "generation"],
                name="columnar_partition_generation_unique",
            ),
            models.UniqueConstraint(
                fields=["integration", "billing_period_start"],
                condition=Q(active=True),
                name="columnar_partition_one_active",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "active"], name="columnar_org_active"),
        ]

    def __str__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"{self.integration_id} {self.billing_period_start} #{self.generation} ({state})"
