"""Writes of the product catalogue: product families, products and customers."""

from __future__ import annotations

from django.db import transaction

from core.errors import ConflictError, ServiceError
from organizations.models import Organization

from ..models import Customer, Product, ProductFamily


def _required_text(value, field_name: str, max_length: int = 255) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if not text:
        raise ServiceError("This field is required.", field=field_name)
    if len(text) > max_length:
        raise ServiceError(f"At most {max_length} characters.", field=field_name)
    return text


def product_family_create(
    organization: Organization, *, name: str, description: str = ""
) -> ProductFamily:
    return ProductFamily.objects.create(
        organization=organization,
        name=_required_text(name, "name"),
        description=description or "",
    )


def product_family_update(family: ProductFamily, **changes) -> ProductFamily:
    if "name" in changes:
        family.name = _required_text(changes["name"], "name")
    if "description" in changes:
        family.description = changes["description"] or ""
    family.save()
    return family


def _family_in(organization: Organization, family_id, field_name: str) -> ProductFamily:
    family = ProductFamily.objects.filter(organization=organization, pk=family_id).first()
    if family is None:
        raise ServiceError(f"Product family '{family_id}' does not exist.", field=field_name)
    return family


def product_create(
    organization: Organization, *, name: str, product_family_id: str, description: str = ""
) -> Product:
    family = _family_in(organization, product_family_id, "product_family_id")
    return Product.objects.create(
        organization=organization,
        family=family,
        name=_required_text(name, "name"),
        description=description or "",
    )


def product_update(product: Product, **changes) -> Product:
    if "name" in changes:
        product.name = _required_text(changes["name"], "name")
    if "description" in changes:
        product.description = changes["description"] or ""
    product.save()
    return product


def _external_id_free(organization: Organization, external_id: str, exclude_pk=None) -> None:
    taken = Customer.objects.filter(organization=organization, external_id=external_id)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ConflictError(
            f"A customer with external_id '{external_id}' already exists.", field="external_id"
        )


@transaction.atomic
def customer_create(
    organization: Organization, *, name: str, external_id: str, email: str = ""
) -> Customer:
    external_id = _required_text(external_id, "external_id")
    _external_id_free(organization, external_id)
    return Customer.objects.create(
        organization=organization,
        name=_required_text(name, "name"),
        external_id=external_id,
        email=email or "",
    )


@transaction.atomic
def customer_update(customer: Customer, **changes) -> Customer:
    if "name" in changes:
        customer.name = _required_text(changes["name"], "name")
    if "external_id" in changes:
        external_id = _required_text(changes["external_id"], "external_id")
        _external_id_free(customer.organization, external_id, exclude_pk=customer.pk)
        customer.external_id = external_id
    if "email" in changes:
        customer.email = changes["email"] or ""
    customer.save()
    return customer
