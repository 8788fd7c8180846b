"""Demo business metric: API requests per customer, live from the demo billable metric, with a
price, so the cost-to-serve pages show usage, cost, revenue and margin."""

from decimal import Decimal

from metrics.models import BillableMetric

from .services import business_metric_create


def load(organization, user) -> None:
    requests = BillableMetric.objects.get(organization=organization, code="api_requests")
    business_metric_create(
        organization,
        title="API requests by customer",
        created_by=user,
        billable_metric=requests,
        label_dimension="customer",
        price_per_unit=Decimal("0.002"),
        currency="USD",
    )
