"""Writes for segments: create, update, delete, system segments and metric refreshes.

Both API surfaces, the pages, the admin, the command and the tasks call these; surfaces only
translate their wire formats into the arguments below.
"""

from __future__ import annotations

import copy
import logging
import time
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import background
from core.errors import ForbiddenError, NotFoundError, ServiceError, UnprocessableError
from organizations.models import Organization, Workspace

from . import allocation, moves
from .engine import allocation_metrics
from .filter_tree import (
    Node,
    from_json,
    names_provider,
    parse_structured,
    providers_of,
    to_json,
)
from .filter_tree.errors import MISSING_PROVIDER, PROVIDER_MISMATCH, FilterError
from .models import (
    SYSTEM_SEGMENT_NAME,
    Segment,
    SegmentMetric,
    Status,
    TreeRefresh,
    new_report_token,
)
from .selectors import (
    top_level,
    top_level_segments,
    top_level_segments_all,
    tree_of,
    tree_refreshes_stuck,
)

__all__ = ["top_level_segments", "top_level_segments_all"]  # readers, kept importable from here

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


class ImmutableSegmentError(ForbiddenError):
    code = "system_segment_immutable"


class FilterScopeError(FilterError, UnprocessableError):
    """A filter that parses but cannot select its segment's provider: unprocessable (422) on
    every surface, where the same code from parsing a filter is a bad request."""


UNSET = object()
logger = logging.getLogger("costline.segments")
# First key of the advisory locks that keep two refreshes of one tree apart ("SE").
REFRESH_LOCK_NAMESPACE = 0x5345
# segments.tasks.refresh_segment_tree, enqueued by name (the tasks import these services).
TREE_REFRESH_TASK = "segments.refresh_segment_tree"


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


def _check_provider_scope(tree: Node | None, explicit: str | None, parent: Segment | None) -> None:
    """One rule for every surface: a filter must be able to select the provider its segment is
    scoped to (its parent's, or the one given), or the segment could never take a row."""
    if parent is None and explicit is None and tree is not None and not names_provider(tree):
        # As Vantage requires: a filter read back from any surface then posts back unchanged.
        raise FilterScopeError(
            "A top-level segment's filter needs a costs.provider condition, e.g. "
            "costs.provider = 'aws' AND ... (children inherit their parent's).",
            code=MISSING_PROVIDER,
            field="costs.provider",
        )
    scope = parent.provider if parent is not None and parent.provider else explicit
    if not scope or tree is None:
        return
    selected = providers_of(tree)
    if scope not in selected:
        whose = "its parent only sees" if parent is not None and parent.provider else "it is"
        # It parses, but cannot mean anything here.
        raise FilterScopeError(
            f"The filter only selects {', '.join(sorted(selected)) or 'no'} costs, "
            f"but {whose} {scope} costs.",
            code=PROVIDER_MISMATCH,
            field="costs.provider",
        )


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
    _check_provider_scope(filter_tree, provider, parent)
    if parent is not None:
        workspace = parent.workspace
    workspace = workspace or organization.default_workspace
    if workspace is None or workspace.organization_id != organization.pk:
        raise NotFoundError("Workspace not found.", field="workspace_token")
    _lock_trees(parent)
    segment = Segment(
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
    segment.money_moved = _moves(None, segment)
    segment.save(force_insert=True)
    _tree_paths_refresh(segment)
    _mark_tree_new(segment)
    return segment


def segment_change_preview(segment: Segment, *, filter_tree=UNSET, **values) -> list[dict]:
    """The money ``segment_update(segment, ...)`` would move, nothing saved (same checks)."""
    values = segment_validate(segment, values)
    changed = copy.copy(segment)
    for name, value in values.items():
        setattr(changed, name, value)
    if filter_tree is not UNSET:
        changed.filter_tree = to_json(filter_tree) if filter_tree is not None else None
    return moves.change_moves(segment, changed)


def _moves(saved: Segment | None, changed: Segment) -> list[dict]:
    """The money a change moves (recorded with it in the history); a failure to measure it
    never blocks the change."""
    try:
        return moves.change_moves(saved, changed)
    except Exception:
        logger.exception("measuring the money moved by segment %s", changed.pk)
        return []


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
    _lock_trees(segment, values.get("parent"))
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    values = segment_validate(segment, values)
    parent = values.get("parent", segment.parent)
    old_top = top_level(segment)
    saved = copy.copy(segment)
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
        _check_provider_scope(_stored_tree(segment), values.get("provider"), segment.parent)
        segment.provider = _derived_provider(
            _stored_tree(segment), values.get("provider"), segment.parent
        )
    if changed & {"filter_tree", "parent", "priority"}:
        segment.money_moved = _moves(saved, segment)
    segment.save()
    if (segment.workspace_id, segment.provider) != before:
        _descendants_follow(segment)
    if changed & {"parent", "priority"}:
        _tree_paths_refresh(segment)
    if changed & (AFFECTS_METRICS | {"filter_tree"}):
        _mark_tree_new(segment)
        if top_level(segment).pk != old_top.pk:
            _mark_tree_new(old_top)
    return segment


@transaction.atomic
def segment_delete(segment: Segment) -> None:
    """Delete a user segment and its descendants; the parent's tree is recomputed."""
    if segment.is_system_generated:
        raise ImmutableSegmentError("System-generated segments cannot be deleted.")
    _lock_trees(segment)
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


def _lock_trees(*segments: Segment | None) -> None:
    """Lock the top rows of the trees of ``segments``, in primary-key order, before any other
    row of those trees. Every write to a tree (edits, and the write phase of a refresh) starts
    here, so concurrent writers queue on one row instead of deadlocking on many."""
    locked: set = set()
    for _ in range(5):
        # Read from the database: the instances held may predate a move.
        tops = {
            top_level(segment, fresh=True).pk for segment in segments if segment is not None
        } - locked
        if not tops:
            return
        # A move committed while we waited can change a tree's top: lock until stable.
        list(Segment.objects.select_for_update().filter(pk__in=tops).order_by("pk").values("pk"))
        locked |= tops


def _mark_tree_new(segment: Segment) -> None:
    top = top_level(segment)
    ids = [node.segment.pk for node in allocation.load_tree(top).walk()]
    Segment.objects.filter(pk__in=ids).update(status=Status.NEW, status_reason="")
    tree_refresh_enqueue(top)


def _refresh_lock_key(top_id) -> list:
    return [REFRESH_LOCK_NAMESPACE, str(top_id)]


def _refresh_lock(top_id) -> None:
    """Two refreshes of one tree run one after the other (PostgreSQL advisory lock, held until
    the refresh's transaction ends; a dead worker's connection releases it). It is not the top
    segment's row lock, so edits go on while a refresh computes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = _refresh_lock_key(top_id)
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", key)


def _refresh_running(top_id) -> bool:
    """Whether a live refresh of the tree holds its lock (PostgreSQL; call inside a transaction)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        key = _refresh_lock_key(top_id)
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", key)
        return not cursor.fetchone()[0]


def tree_refresh_enqueue(top: Segment, months: list[date] | None = None) -> None:
    """Ask for the tree to be recomputed (``months`` only, or all), once the surrounding
    transaction commits. Requests of one tree coalesce: each bumps the tree's generation and
    widens its pending months; the refresh that runs covers all of them, and queued refreshes
    of older generations exit without computing (worker mode waits a short debounce first)."""
    with transaction.atomic():
        _lock_trees(top)
        state, _ = TreeRefresh.objects.select_for_update().get_or_create(top_id=top.pk)
        wanted = sorted({month.isoformat() for month in months}) if months else None
        if not state.pending:
            state.months = wanted
        elif state.months is not None:
            state.months = None if wanted is None else sorted(set(state.months) | set(wanted))
        state.requested += 1
        state.requested_at = timezone.now()
        state.save(update_fields=["requested", "months", "requested_at"])
        generation = state.requested
    organization_id = str(top.organization_id)
    transaction.on_commit(lambda: _enqueue(top.pk, organization_id, generation))


def _enqueue(top_id, organization_id: str, generation: int, countdown: float | None = None):
    refresh_segment_tree = background.task(TREE_REFRESH_TASK)
    if countdown is None:
        countdown = settings.SEGMENTS_REFRESH_DEBOUNCE_SECONDS
    try:
        refresh_segment_tree.apply_async(
            args=[str(top_id), None],
            kwargs={"organization_id": organization_id, "generation": generation},
            countdown=countdown or None,
        )
    except Exception:
        # The write that asked for the refresh has committed; a refresh that fails leaves the
        # tree "failed" with its reason, one that never ran is enqueued again by
        # ``tree_refreshes_recover`` (beat), and the nightly run recomputes everything.
        logger.exception("segment tree refresh failed to run: %s", top_id)


def segment_tree_refresh(
    top_id, months: list[date] | None = None, *, generation: int | None = None
) -> Segment | None:
    """Recompute the metrics of one tree (all months, or only ``months``) and mark it completed.

    With ``generation`` (a queued refresh), the refresh covers what the tree's requests ask for
    and exits early when that generation is already done or a newer one is requested. Refreshes
    of one tree never interleave (advisory lock); the top segment's row is locked only while
    the results are written, so edits are not blocked by a computation.
    """
    try:
        return _tree_refresh(top_id, months, generation)
    except Exception as error:
        # Recorded outside the refresh's transaction (which rolled back) so the reason stays
        # visible; the task re-raises for its retries, and a later success clears it.
        with transaction.atomic():
            top = Segment.objects.filter(pk=top_id).first()
            if top is not None:
                _lock_trees(top)
                ids = [node.segment.pk for node in tree_of(top_id)]
                Segment.objects.filter(pk__in=ids).update(
                    status=Status.FAILED, status_reason=f"{type(error).__name__}: {error}"[:1000]
                )
        raise


def _tree_refresh(top_id, months: list[date] | None, generation: int | None) -> Segment | None:
    if generation is not None and not connection.in_atomic_block:
        # Visible to /health/ and to the convergence tests while the refresh computes.
        TreeRefresh.objects.filter(top_id=top_id, done__lt=generation).update(
            started_at=timezone.now()
        )
    with transaction.atomic():
        _refresh_lock(top_id)
        state = TreeRefresh.objects.filter(top_id=top_id).first()
        read = state.requested if state is not None else 0
        if generation is not None:
            if state is None or state.done >= generation:
                return None  # covered by a refresh that already ran
            if state.requested > generation:
                return None  # a newer request is queued; its refresh covers this one
            months = [date.fromisoformat(month) for month in state.months or []] or None
        top = Segment.objects.filter(pk=top_id).first()
        if top is None or top.parent_id is not None:
            return None  # deleted, or moved under another tree (whose refresh covers it)
        if settings.SEGMENTS_REFRESH_DELAY_SECONDS:  # test-only: lets a test kill mid-refresh
            time.sleep(settings.SEGMENTS_REFRESH_DELAY_SECONDS)
        root = allocation.load_tree(top)
        metrics = allocation_metrics(root, months)
        # Write phase: the top row first, like every write to the tree.
        _lock_trees(top)
        if not Segment.objects.filter(pk=top_id, parent__isnull=True).exists():
            return None  # moved under another tree while this computed
        ids = [node.segment.pk for node in tree_of(top_id)]
        computed = {node.segment.pk for node in root.walk()}
        existing = SegmentMetric.objects.filter(segment_id__in=ids)
        if months:
            existing = existing.filter(allocation.months_q("period_start", months))
        existing.delete()
        # Segments deleted while the refresh computed are left out.
        kept = set(ids)
        SegmentMetric.objects.bulk_create(
            [metric for metric in metrics if metric.segment_id in kept], batch_size=2000
        )
        state = TreeRefresh.objects.select_for_update().filter(top_id=top_id).first()
        current = state is None or state.requested == read
        covers = (
            state is None
            or months is None
            or set(state.months or ()) <= {month.isoformat() for month in months}
        )
        if current and set(ids) <= computed:
            Segment.objects.filter(pk__in=ids).update(status=Status.COMPLETED, status_reason="")
        # update(): bookkeeping, not a change of the segment's history.
        for pk in Segment.objects.filter(pk__in=ids, report_token__isnull=True).values_list(
            "pk", flat=True
        ):
            Segment.objects.filter(pk=pk).update(report_token=new_report_token())
        if state is not None:
            if current and covers:
                state.done, state.months = read, None
            state.finished_at = timezone.now()
            state.runs += 1
            state.save(update_fields=["done", "months", "finished_at", "runs"])
        logger.info(
            "segment tree refreshed top=%s generation=%s current=%s months=%s",
            top_id,
            read,
            current,
            [month.isoformat() for month in months] if months else "all",
        )
        return top


def tree_refreshes_recover() -> dict[str, list[str]]:
    """Enqueue again the refreshes a dead worker (or a lost message) left undone: trees whose
    last request has waited ``WORK_STALE_SECONDS`` with no refresh running, and ``new`` trees
    with no request at all. Failed trees stay failed (their reason is shown; edits or the
    nightly run retry them)."""
    outcome: dict[str, list[str]] = {"requeued": [], "requested": []}
    waiting, unrequested = tree_refreshes_stuck()
    for state in waiting:
        with transaction.atomic():
            if _refresh_running(state.top_id):
                continue
            fresh = TreeRefresh.objects.select_for_update().filter(pk=state.pk).first()
            if fresh is None or not fresh.pending:
                continue
            fresh.requested_at = timezone.now()
            fresh.save(update_fields=["requested_at"])
            organization_id = str(state.top.organization_id)
            generation = fresh.requested
            transaction.on_commit(
                lambda top_id=state.top_id, org=organization_id, gen=generation: _enqueue(
                    top_id, org, gen, countdown=0
                )
            )
            outcome["requeued"].append(str(state.top_id))
            logger.warning("segment tree refresh enqueued again: %s", state.top_id)
    for top in unrequested:
        tree_refresh_enqueue(top)
        outcome["requested"].append(str(top.pk))
        logger.warning("segment tree left new with no refresh requested: %s", top.pk)
    return outcome


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
