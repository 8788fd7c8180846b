"""Demo metering data: a small catalogue, three metrics and a month of usage events."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from core.params import utc_timestamp

from . import services

REGIONS = ["eu", "us"]


def load(organization, user) -> None:
    platform = services.product_family_create(organization, name="Platform")
    api = services.product_create(organization, name="Public API", product_family_id=platform.pk)
    storage = services.product_create(organization, name="Storage", product_family_id=platform.pk)
    customers = [
        services.customer_create(organization, name=name, external_id=external_id)
        for name, external_id in [
            ("Initech", "initech"),
            ("Hooli", "hooli"),
            ("Globex", "globex"),
        ]
    ]
    services.metric_create(
        organization,
        name="API requests",
        code="api_requests",
        aggregation_type="COUNT",
        product_family_id=platform.pk,
        product_id=api.pk,
        segmentation_matrix={"key": "region", "values": REGIONS},
        unit_conversion={"factor": 1000, "rounding": "UP"},
        description="Billed per started thousand requests.",
    )
    services.metric_create(
        organization,
        name="Stored data",
        code="storage_gb",
        aggregation_type="MAX",
        aggregation_key="gb",
        product_family_id=platform.pk,
        product_id=storage.pk,
        usage_group_key="bucket",
    )
    services.metric_create(
        organization,
        name="Active users",
        code="active_users",
        aggregation_type="COUNT_DISTINCT",
        aggregation_key="user",
        product_family_id=platform.pk,
    )

    rng = random.Random(42)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    events = []
    for days_ago in range(30, -1, -1):
        day = today - datetime.timedelta(days=days_ago)
        for index, customer in enumerate(customers):
            size = (index + 1) * 20
            for n in range(size):
                moment = day + datetime.timedelta(seconds=rng.randrange(86400))
                moment = min(moment, timezone.now())
                stamp = utc_timestamp(moment)
                key = f"demo-{customer.external_id}-{days_ago}-{n}"
                events.append(
                    {
                        "id": f"{key}-req",
                        "code": "api_requests",
                        "customer_id": customer.pk,
                        "timestamp": stamp,
                        "properties": {"region": rng.choice([*REGIONS, "apac"])},
                    }
                )
                if n % 10 == 0:
                    events.append(
                        {
                            "id": f"{key}-gb",
                            "code": "storage_gb",
                            "customer_id": customer.pk,
                            "timestamp": stamp,
                            "properties": {
                                "gb": round(50 + days_ago * 1.5 + rng.random() * 10, 2),
                                "bucket": rng.choice(["logs", "media"]),
                            },
                        }
                    )
                events.append(
                    {
                        "id": f"{key}-user",
                        "code": "active_users",
                        "customer_id": customer.external_id,
                        "timestamp": stamp,
                        "properties": {"user": f"user-{rng.randrange(size)}"},
                    }
                )
    for offset in range(0, len(events), services.MAX_EVENTS_PER_REQUEST):
        services.events_ingest(
            organization, events[offset : offset + services.MAX_EVENTS_PER_REQUEST]
        )
    services.usage_materialize_pending(organization_id=organization.pk)
