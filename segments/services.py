"""Writes for segments: create, update, delete, system segments and metric refreshes.

Both API surfaces, the pages, the admin, the command and the tasks call these; surfaces only
translate their wire formats into the arguments below.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction

from core.errors import NotFoundError, ServiceError
from organizations.models import Organization, Workspace

from . import allocation
from .filter_tree import Node, from_json, parse_structured, providers_of, to_json
from .models import SYSTEM_SEGMENT_NAME, Segment, SegmentMetric, Status, new_report_token

REPORT_SETTINGS = (
    "include_credits",
    "include_refunds",
    "include_discounts",
    "include_tax",
    "amortize",
)
EDITABLE = (
    "name",
    "description",
    "priority",
    "track_unallocated",
    "parent",
    "provider",
    "workspace",
    *REPORT_SETTINGS,
)
# Changing these changes which rows a segment takes or how they are counted.
AFFECTS_METRICS = {"parent", "priority", "provider", *REPORT_SETTINGS}


class ImmutableSegmentError(ServiceError):
    status_code = 403
    code = "system_segment_immutable"


UNSET = object()
logger = logging.getLogger("costline.segments")


def top_of(segment: Segment) -> Segment:
    while segment.parent_id is not None:
        segment = segment.parent
    return segment


def _derived_provider(
    tree: Node | None, explicit: str | None, parent: Segment | None = None
) -> str | None:
    """A child only sees its parent's rows, so a parent's provider is also its children's;
    otherwise the one given, else the single provider the filter can select (else none)."""
    if parent is not None and parent.provider:
        return parent.provider
    if explicit:
        return explicit
    providers = providers_of(tree) if tree is not None else set()
    return next(iter(providers)) if len(providers) == 1 else None


def _stored_tree(segment: Segment) -> Node | None:
    return from_json(segment.filter_tree) if segment.filter_tree else None


def _tree_paths_refresh(segment: Segment) -> None:
    """Recompute ``tree_path`` of a segment and its descendants (after create, move, priority)."""
    # From the database: the caller's parent instance may predate its own path.
    prefix = ""
    if segment.parent_id:
        parents = Segment.objects.filter(pk=segment.parent_id).values_list("tree_path", flat=True)
        prefix = parents.first() or ""
    changed = []

    def visit(node, prefix: str) -> None:
        path = prefix + node.segment.tree_key()
        if node.segment.tree_path != path:
            node.segment.tree_path = path
            changed.append(node.segment)
        for child in node.children:
            visit(child, path)

    root = allocation.load_tree(segment)
    visit(root, prefix)
    Segment.objects.bulk_update(changed, ["tree_path"])
    segment.tree_path = root.segment.tree_path


def _descendants_follow(segment: Segment) -> None:
    """Descendants share their ancestor's workspace and inherit its provider."""
    for node in allocation.load_tree(segment).walk():
        for child_node in node.children:
            child = child_node.segment
            provider = _derived_provider(_stored_tree(child), None, node.segment)
            if (child.workspace_id, child.provider) != (segment.workspace_id, provider):
                child.workspace_id, child.provider = segment.workspace_id, provider
                child.save(update_fields=["workspace", "provider", "updated_at"])


def _check_parent(segment: Segment | None, parent: Segment | None, organization) -> None:
    if parent is None:
        return
    if parent.organization_id != organization.pk:
        raise NotFoundError("Parent segment not found.", field="parent_segment_token")
    ancestor = parent
    while ancestor is not None:
        if segment is not None and ancestor.pk == segment.pk:
            raise ServiceError(
                "A segment cannot be its own ancestor.", field="parent_segment_token"
            )
        ancestor = ancestor.parent


def _check_report_settings(parent: Segment | None, values: dict) -> None:
    given = [name for name in REPORT_SETTINGS if values.get(name) is not None]
    if parent is not None and given:
        raise ServiceError(
            "Report settings can only be set on top-level segments; children inherit them.",
            field="report_settings",
        )


@transaction.atomic
def segment_create(
    organization: Organization,
    *,
    name: str,
    workspace: Workspace | None = None,
    filter_tree: Node | None = None,
    provider: str | None = None,
    parent: Segment | None = None,
    description: str = "",
    priority: int = 100,
    track_unallocated: bool = False,
    created_by=None,
    **report_settings,
) -> Segment:
    name = (name or "").strip()
    if not name:
        raise ServiceError("name must not be empty.", field="name")
    _check_parent(None, parent, organization)
    _check_report_settings(parent, report_settings)
    if parent is not None:
        workspace = parent.workspace
    workspace = workspace or organization.default_workspace
    if workspace is None or workspace.organization_id != organization.pk:
        raise NotFoundError("Workspace not found.", field="workspace_token")
    segment = Segment.objects.create(
        organization=organization,
        workspace=workspace,
        name=name,
        description=description or "",
        provider=_derived_provider(filter_tree, provider, parent),
        filter_tree=to_json(filter_tree) if filter_tree is not None else None,
        parent=parent,
        priority=priority,
        track_unallocated=track_unallocated,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        **{k: v for k, v in report_settings.items() if k in REPORT_SETTINGS and v is not None},
    )
    _tree_paths_refresh(segment)
    _mark_tree_new(segment)
    return segment


def segment_validate(segment: Segment, values: dict) -> dict:
    """The checks an update makes before writing (also for forms that report them early, like
    the admin's); returns the values normalized."""
    if segment.is_system_generated:
        raise ImmutableSegmentError("System-generated segments cannot be changed.")
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ServiceError(f"Unknown field {sorted(unknown)[0]}.")
    values = dict(values)
    parent = values.get("parent", segment.parent)
    if "parent" in values:
        _check_parent(segment, parent, segment.organization)
    _check_report_settings(parent, {k: v for k, v in values.items() if k in REPORT_SETTINGS})
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise ServiceError("name must not be empty.", field="name")
    if "description" in values and values["description"] is None:
        values["description"] = ""
    workspace = values.get("workspace")
    if workspace is not None and workspace.organization_id != segment.organization_id:
        raise NotFoundError("Workspace not found.", field="workspace_token")
    return values


@transaction.atomic
def segment_update(segment: Segment, *, filter_tree=UNSET, **values) -> Segment:
    """Change a user segment; anything that changes its rows sends its tree back to ``new``."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    values = segment_validate(segment, values)
    parent = values.get("parent", segment.parent)
    old_top = top_of(segment)
    before = (segment.workspace_id, segment.provider)
    changed = {name for name, value in values.items() if getattr(segment, name) != value}
    for name, value in values.items():
        setattr(segment, name, value)
    if parent is not None:
        segment.workspace = parent.workspace
    if filter_tree is not UNSET:
        stored = to_json(filter_tree) if filter_tree is not None else None
        if stored != segment.filter_tree:
            changed.add("filter_tree")
        segment.filter_tree = stored
    if filter_tree is not UNSET or "parent" in values or "provider" in values:
        segment.provider = _derived_provider(
            _stored_tree(segment), values.get("provider"), segment.parent
        )
    segment.save()
    if (segment.workspace_id, segment.provider) != before:
        _descendants_follow(segment)
    if changed & {"parent", "priority"}:
        _tree_paths_refresh(segment)
    if changed & (AFFECTS_METRICS | {"filter_tree"}):
        _mark_tree_new(segment)
        if top_of(segment).pk != old_top.pk:
            _mark_tree_new(old_top)
    return segment


@transaction.atomic
def segment_delete(segment: Segment) -> None:
    """Delete a user segment and its descendants; the parent's tree is recomputed."""
    if segment.is_system_generated:
        raise ImmutableSegmentError("System-generated segments cannot be deleted.")
    parent = segment.parent
    segment.delete()
    if parent is not None:
        _mark_tree_new(parent)


def system_segment_ensure(organization: Organization, provider: str) -> Segment:
    """The ``provider-resources`` segment of a provider: all of that provider's costs."""
    existing = Segment.objects.filter(
        organization=organization, provider=provider, is_system_generated=True
    ).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        segment = Segment.objects.create(
            organization=organization,
            workspace=organization.default_workspace,
            name=SYSTEM_SEGMENT_NAME,
            description=f"All {provider.upper()} costs of the organization.",
            provider=provider,
            filter_tree=to_json(parse_structured([], provider)),
            priority=0,
            is_system_generated=True,
        )
        _tree_paths_refresh(segment)
        _mark_tree_new(segment)
    return segment


def _mark_tree_new(segment: Segment) -> None:
    top = top_of(segment)
    ids = [node.segment.pk for node in allocation.load_tree(top).walk()]
    Segment.objects.filter(pk__in=ids).update(status=Status.NEW, status_reason="")
    tree_refresh_enqueue(top)


def tree_refresh_enqueue(top: Segment, months: list[date] | None = None) -> None:
    from .tasks import refresh_segment_tree

    months_iso = [month.isoformat() for month in months] if months else None

    def enqueue():
        try:
            refresh_segment_tree.delay(
                str(top.pk), months_iso, organization_id=str(top.organization_id)
            )
        except Exception:
            # The write that asked for the refresh has committed; a failed refresh leaves the
            # tree "failed" with its reason and the nightly run tries again.
            logger.exception("segment tree refresh failed to run: %s", top.pk)

    transaction.on_commit(enqueue)


def segment_tree_refresh(top_id, months: list[date] | None = None) -> Segment | None:
    """Recompute the metrics of one tree (all months, or only ``months``) and mark it completed.

    The top segment's row is locked for the whole computation, so two refreshes of one tree run
    one after the other and never interleave their writes.
    """
    try:
        return _tree_refresh(top_id, months)
    except Exception as error:
        # Recorded outside the refresh's transaction (which rolled back) so the reason stays
        # visible; the task re-raises for its retries, and a later success clears it.
        ids = [node.segment.pk for node in _tree_of(top_id)]
        Segment.objects.filter(pk__in=ids).update(
            status=Status.FAILED, status_reason=f"{type(error).__name__}: {error}"[:1000]
        )
        raise


def _tree_of(top_id) -> list:
    top = Segment.objects.filter(pk=top_id).first()
    return list(allocation.load_tree(top).walk()) if top is not None else []


@transaction.atomic
def _tree_refresh(top_id, months: list[date] | None) -> Segment | None:
    top = Segment.objects.select_for_update().filter(pk=top_id).first()
    if top is None:
        return None
    root = allocation.load_tree(top)
    ids = [node.segment.pk for node in root.walk()]
    metrics = allocation.compute_metrics(root, months)
    existing = SegmentMetric.objects.filter(segment_id__in=ids)
    if months:
        existing = existing.filter(allocation.months_q("period_start", months))
    existing.delete()
    SegmentMetric.objects.bulk_create(metrics, batch_size=2000)
    Segment.objects.filter(pk__in=ids).update(status=Status.COMPLETED, status_reason="")
    for segment in Segment.objects.filter(pk__in=ids, report_token__isnull=True):
        segment.report_token = new_report_token()
        segment.save(update_fields=["report_token"])
    return top


def top_level_segments(organization_id, provider: str | None = None):
    segments = Segment.objects.filter(organization_id=organization_id, parent__isnull=True)
    if provider:
        segments = segments.filter(provider__in=[provider, None])
    return segments


def top_level_segments_all():
    return Segment.objects.filter(parent__isnull=True).only("pk", "organization_id")


def segments_refresh_after_import(organization_id, provider: str, months: list[date]) -> None:
    """After an import: recompute the touched months of every tree that can see that provider."""
    for top in top_level_segments(organization_id, provider):
        tree_refresh_enqueue(top, months)


def organization_refresh(
    organization: Organization, provider: str | None = None, *, only_pending: bool = False
) -> list[Segment]:
    """Recompute every tree of an organization now (``manage.py refresh_segments``), or with
    ``only_pending`` those whose status is not ``completed``. A failing tree is recorded as
    failed and the others still run."""
    refreshed = []
    tops = top_level_segments(organization.pk, provider).order_by("created_at")
    if only_pending:
        tops = tops.exclude(status=Status.COMPLETED)
    for top in tops:
        try:
            segment_tree_refresh(top.pk)
        except Exception:
            logger.exception("segment tree refresh failed: %s", top.pk)
        refreshed.append(top)
    return refreshed
