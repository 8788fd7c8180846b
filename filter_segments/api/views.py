"""``/api/{account_id}/filter-segments/``: saved filter presets for signed-in people (seed 002).

API tokens are refused (403) before the account is even looked up, so a token learns nothing
about which accounts exist. Errors use DRF's default shape.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError
from core.openapi import DESCRIBED, errors
from core.pagination import PageNumberPagination
from organizations.permissions import SessionOnly, SignedIn
from organizations.tenancy import OrganizationScopedMixin

from .. import selectors, services
from ..models import FilterSegment
from .schema import FilterSegmentAutoSchema
from .serializers import (
    FilterSegmentPageSerializer,
    FilterSegmentSerializer,
    ListQuerySerializer,
)

TAGS = ["Filter segments"]


def documented(*codes: int) -> dict:
    """Error responses of an endpoint, with this API's meaning of 403 and 404."""
    responses = errors(*codes)
    responses[403] = OpenApiResponse(
        DESCRIBED[403].response,
        description="Request authenticated by an API token (every endpoint), a write without "
        "a CSRF token, or changing a saved view you neither created nor administer.",
    )
    if 404 in responses:
        responses[404] = OpenApiResponse(
            DESCRIBED[404].response,
            description="Unknown account, not a member of it, or a segment of another account.",
        )
    return responses


class FilterSegmentView(OrganizationScopedMixin, APIView):
    # SessionOnly first: a token is refused before the account in the URL is resolved. Any
    # member of the account may use saved views (membership is checked by tenancy).
    permission_classes = [SessionOnly, SignedIn]
    organization_url_kwarg = "account_id"

    def segment(self, segment_id: str) -> FilterSegment:
        queryset = self.scope_queryset(FilterSegment.objects.select_related("organization"))
        found = queryset.filter(pk=segment_id).first()
        if found is None:
            raise NotFoundError("Filter segment not found.")
        return found


class FilterSegmentListView(FilterSegmentView):
    @extend_schema(
        operation_id="filter_segments_list",
        tags=TAGS,
        parameters=[
            # Bounds in the schema too, so that every request it allows is answered.
            OpenApiParameter(
                "module",
                {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"\S"},
                required=True,
                description="List page key.",
            ),
            OpenApiParameter(
                "page", {"type": "integer", "minimum": 1}, description="From 1 (default 1)."
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": 500},
                description="1–500 (default 50).",
            ),
            OpenApiParameter(
                "search",
                {"type": "string", "maxLength": 80},
                description="Name contains (case-insensitive).",
            ),
            OpenApiParameter(
                "sort_by", str, enum=list(selectors.SORT_FIELDS), description="Default updated_at."
            ),
            OpenApiParameter("sort_order", str, enum=["asc", "desc"], description="Default desc."),
        ],
        responses={200: FilterSegmentPageSerializer, **documented(400, 403, 404)},
    )
    def get(self, request, account_id):
        organization = self.get_organization()
        query = ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        segments = selectors.ordered(
            selectors.filter_segments_for(organization, params["module"], params.get("search")),
            params["sort_by"],
            params["sort_order"],
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(segments, request, view=self)
        return paginator.get_paginated_response(FilterSegmentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="filter_segments_create",
        tags=TAGS,
        request=FilterSegmentSerializer,
        responses={201: FilterSegmentSerializer, **documented(400, 403, 404)},
    )
    def post(self, request, account_id):
        organization = self.get_organization()
        body = FilterSegmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        segment = services.filter_segment_create(organization, request.user, **body.validated_data)
        return Response(FilterSegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class FilterSegmentDetailView(FilterSegmentView):
    schema = FilterSegmentAutoSchema()

    @extend_schema(
        operation_id="filter_segments_retrieve",
        tags=TAGS,
        responses={200: FilterSegmentSerializer, **documented(403, 404)},
    )
    def get(self, request, account_id, segment_id):
        return Response(FilterSegmentSerializer(self.segment(segment_id)).data)

    @extend_schema(
        operation_id="filter_segments_update",
        tags=TAGS,
        request=FilterSegmentSerializer(partial=True),
        responses={200: FilterSegmentSerializer, **documented(400, 403, 404)},
    )
    def patch(self, request, account_id, segment_id):
        segment = self.segment(segment_id)
        body = FilterSegmentSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        segment = services.filter_segment_update(request.user, segment, **body.validated_data)
        return Response(FilterSegmentSerializer(segment).data)

    @extend_schema(
        operation_id="filter_segments_destroy",
        tags=TAGS,
        responses={204: OpenApiResponse(description="Deleted."), **documented(403, 404)},
    )
    def delete(self, request, account_id, segment_id):
        services.filter_segment_delete(request.user, self.segment(segment_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
