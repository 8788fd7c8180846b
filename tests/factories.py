"""factory-boy factories shared by all tests."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import factory
from django.contrib.auth import get_user_model

from costs.models import CostRow, Integration
from organizations import services as org_services
from organizations.models import Membership, Organization, Role, Workspace


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    """An organization with its default workspace, created through the service."""

    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return org_services.organization_create(kwargs["name"])


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Workspace {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.EDITOR


def api_token(organization, scopes="read,write", **kwargs):
    """Create a token through the service and return ``(token, secret)``."""
    return org_services.api_token_create(
        organization, name=kwargs.pop("name", "test token"), scopes=scopes, **kwargs
    )


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    organization = factory.SubFactory(OrganizationFactory)
    provider = "aws"
    name = factory.Sequence(lambda n: f"Integration {n}")


class _CostRowFields(factory.Factory):
    """A cost row's values (the columns of ``CostRow`` / the columnar store)."""

    class Meta:
        abstract = True

    integration = factory.SubFactory(IntegrationFactory)
    organization = factory.SelfAttribute("integration.organization")
    provider = factory.SelfAttribute("integration.provider")
    billing_account_id = "100000000001"
    sub_account_id = "200000000001"
    service_name = "AmazonEC2"
    service_category = "Compute"
    region_id = "us-east-1"
    charge_category = "Usage"
    pricing_category = "Standard"
    billing_currency = "USD"
    billed_cost = Decimal("10.00")
    effective_cost = Decimal("10.00")
    list_cost = Decimal("12.00")
    contracted_cost = Decimal("10.00")
    charge_period_start = datetime.date(2026, 10, 1)
    billing_period_start = factory.LazyAttribute(lambda r: r.charge_period_start.replace(day=1))
    tags = factory.LazyFunction(dict)


class CostRowFactory(_CostRowFields):
    """A cost row in the columnar store, where the importer puts them (``tests.costrows``):
    ``create`` rewrites the row's billing period with the row added; ``build`` only makes the
    values (see ``cost_rows`` to write many at once)."""

    class Meta:
        model = SimpleNamespace

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        organization = kwargs.pop("organization")
        return model_class(
            **kwargs, organization_id=organization.pk, integration_id=kwargs["integration"].pk
        )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from .costrows import append_rows

        row = cls._build(model_class, *args, **kwargs)
        append_rows(row.integration, [vars(row)])
        return row


def cost_rows(integration, specs: list[dict]) -> list[SimpleNamespace]:
    """Many cost rows of one integration written in one go (one new generation per period)."""
    from .costrows import append_rows

    rows = [CostRowFactory.build(integration=integration, **spec) for spec in specs]
    append_rows(integration, [vars(row) for row in rows])
    return rows


class LegacyCostRowFactory(_CostRowFields, factory.django.DjangoModelFactory):
    """A row of the legacy PostgreSQL row store (``costs.CostRow``): what ``costs_to_columnar``
    moves, and what the row-store engine (``segments.allocation``, the benchmarks' baseline)
    reads."""

    class Meta:
        model = CostRow
