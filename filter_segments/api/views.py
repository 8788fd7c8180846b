"""``/api/{account_id}/filter-segments/``: saved filter presets for signed-in people (seed 002).

API tokens are refused (403) before the account is even looked up, so a token learns nothing
about which accounts exist. Errors use DRF's default shape.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError
from core.pagination import PageNumberPagination
from organizations.permissions import SessionOnly
from organizations.tenancy import OrganizationScopedMixin

from .. import selectors, services
from ..models import MAX_FILTERS

ERRORS = {
    400: OpenApiResponse(description="Invalid parameters or body; field errors name the field."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="API tokens are not accepted; or not allowed to change."),
    404: OpenApiResponse(description="Unknown account or segment, or not a member."),
}


class SignedIn(BasePermission):
    """Any member of the account may use saved views; membership is checked by tenancy."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated("Authentication credentials were not provided.")
        return True


class PredicateSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=64)
    id = serializers.CharField(max_length=255)
    label = serializers.CharField(max_length=255)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    f"Unknown predicate key(s): {sorted(unknown)}; use type, id and label."
                )
        return super().to_internal_value(data)


class FilterSegmentSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    module = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=80)
    filters = PredicateSerializer(many=True, max_length=MAX_FILTERS)
    created_by_user_id = serializers.CharField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True, format="%Y-%m-%dT%H:%M:%SZ")
    updated_at = serializers.DateTimeField(read_only=True, format="%Y-%m-%dT%H:%M:%SZ")

    def validate(self, attrs):
        unknown = (
            set(self.initial_data) - set(self.fields)
            if isinstance(self.initial_data, dict)
            else set()
        )
        if unknown:
            raise serializers.ValidationError(f"Unknown field(s): {sorted(unknown)}.")
        return attrs


class ListQuerySerializer(serializers.Serializer):
    module = serializers.CharField(max_length=64)
    search = serializers.CharField(required=False, allow_blank=True, max_length=80)
    sort_by = serializers.ChoiceField(choices=selectors.SORT_FIELDS, default="updated_at")
    sort_order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")


class FilterSegmentView(OrganizationScopedMixin, APIView):
    permission_classes = [SessionOnly, SignedIn]
    organization_url_kwarg = "account_id"

    def segment(self, segment_id):
        found = selectors.filter_segments_for(self.get_organization()).filter(pk=segment_id).first()
        if found is None:
            raise NotFoundError("Filter segment not found.")
        return found


class FilterSegmentListView(FilterSegmentView):
    @extend_schema(
        operation_id="filter_segments_list",
        tags=["Filter segments"],
        parameters=[
            OpenApiParameter("module", str, required=True, description="List page key."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
            OpenApiParameter("search", str, description="Name contains (case-insensitive)."),
            OpenApiParameter("sort_by", str, enum=list(selectors.SORT_FIELDS)),
            OpenApiParameter("sort_order", str, enum=["asc", "desc"]),
        ],
        responses={200: FilterSegmentSerializer(many=True), **ERRORS},
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
        tags=["Filter segments"],
        request=FilterSegmentSerializer,
        responses={201: FilterSegmentSerializer, **ERRORS},
    )
    def post(self, request, account_id):
        organization = self.get_organization()
        body = FilterSegmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        segment = services.filter_segment_create(organization, request.user, **body.validated_data)
        return Response(FilterSegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class FilterSegmentDetailView(FilterSegmentView):
    @extend_schema(
        operation_id="filter_segments_retrieve",
        tags=["Filter segments"],
        responses={200: FilterSegmentSerializer, **ERRORS},
    )
    def get(self, request, account_id, segment_id):
        return Response(FilterSegmentSerializer(self.segment(segment_id)).data)

    @extend_schema(
        operation_id="filter_segments_update",
        tags=["Filter segments"],
        request=FilterSegmentSerializer(partial=True),
        responses={200: FilterSegmentSerializer, **ERRORS},
    )
    def patch(self, request, account_id, segment_id):
        segment = self.segment(segment_id)
        body = FilterSegmentSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        if not body.validated_data:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Provide at least one of name, module, filters."]}
            )
        segment = services.filter_segment_update(request.user, segment, **body.validated_data)
        return Response(FilterSegmentSerializer(segment).data)

    @extend_schema(
        operation_id="filter_segments_destroy",
        tags=["Filter segments"],
        responses={204: OpenApiResponse(description="Deleted."), **ERRORS},
    )
    def delete(self, request, account_id, segment_id):
        services.filter_segment_delete(request.user, self.segment(segment_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
