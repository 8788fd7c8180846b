"""Writes for tenancy: organizations, memberships and API tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import ServiceError
from core.params import utc_offset_problem

from .models import (
    TOKEN_PREFIX,
    ApiToken,
    Membership,
    Organization,
    Role,
    Scope,
    Workspace,
    hash_secret,
)

VALID_SCOPES = {choice.value for choice in Scope}


@transaction.atomic
def organization_create(name: str, *, admin_user=None) -> Organization:
    name = (name or "").strip()
    if not name:
        raise ServiceError("Organization name must not be empty.", field="name")
    organization = Organization.objects.create(name=name)
    Workspace.objects.create(organization=organization, name=name, is_default=True)
    if admin_user is not None:
        membership_set(organization, admin_user, Role.ADMIN)
    return organization


def user_ensure(username: str, password: str | None = None):
    """Get or create a user; sets the password when one is given."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if password is not None and (created or not user.check_password(password)):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def membership_set(organization: Organization, user, role: str) -> Membership:
    if role not in Role.values:
        raise ServiceError(f"Unknown role '{role}'.", field="role")
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership


def parse_scopes(value: str | Iterable[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    scopes = sorted({item.strip().lower() for item in items if item and item.strip()})
    if not scopes:
        raise ServiceError("At least one scope is required (read, write).", field="scopes")
    unknown = [scope for scope in scopes if scope not in VALID_SCOPES]
    if unknown:
        raise ServiceError(f"Unknown scope '{unknown[0]}'; use read and/or write.", field="scopes")
    # A token that may write may also read.
    if Scope.WRITE in scopes and Scope.READ not in scopes:
        scopes = sorted([*scopes, Scope.READ.value])
    return scopes


@transaction.atomic
def api_token_create(
    organization: Organization,
    *,
    name: str,
    scopes: str | Iterable[str] = ("read",),
    workspaces: Iterable[Workspace] = (),
    created_by=None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored nor shown again."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("Token name must not be empty.", field="name")
    if len(name) > 200:
        raise ServiceError("Token name must be at most 200 characters.", field="name")
    scope_list = parse_scopes(scopes)
    workspace_list = list(workspaces)
    for workspace in workspace_list:
        if workspace.organization_id != organization.pk:
            raise ServiceError("Workspace not found in this organization.", field="workspaces")
    if expires_at is not None and (offset_problem := utc_offset_problem(expires_at)):
        raise ServiceError(f"Expiry: {offset_problem}", field="expires_at")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("Expiry must be in the future.", field="expires_at")
    public_id = secrets.token_hex(4)
    while ApiToken.objects.filter(public_id=public_id).exists():
        public_id = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{public_id}_{secrets.token_urlsafe(30)}"
    token = ApiToken.objects.create(
        organization=organization,
        name=name,
        public_id=public_id,
        secret_hash=hash_secret(secret),
        scopes=scope_list,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        expires_at=expires_at,
    )
    if workspace_list:
        token.workspaces.set(workspace_list)
    return token, secret


def api_token_revoke(token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
