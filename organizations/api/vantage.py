"""Vantage v2 basics: ping, me and workspaces."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import VANTAGE_ENVELOPE
from core.params import UTC_TIMESTAMP_FORMAT, utc_timestamp
from core.vantage import vantage_errors

from .. import selectors
from ..models import Scope, Workspace
from ..tenancy import VantageMixin


class WorkspaceSerializer(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(format=UTC_TIMESTAMP_FORMAT)
    enable_currency_conversion = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    exchange_rate_date = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = [
            "token",
            "name",
            "created_at",
            "enable_currency_conversion",
            "currency",
            "exchange_rate_date",
        ]

    def get_enable_currency_conversion(self, obj) -> bool:
        return False

    def get_currency(self, obj) -> str:
        return "USD"

    def get_exchange_rate_date(self, obj) -> str:
        return "daily"


class BearerTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.CharField()
    scope = serializers.ListField(child=serializers.CharField())


class MeSerializer(serializers.Serializer):
    default_workspace_token = serializers.CharField(allow_null=True)
    workspaces = WorkspaceSerializer(many=True)
    bearer_token = BearerTokenSerializer()


class PingView(APIView):
    """Health check of the API; answers 200 to anyone."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    error_envelope = VANTAGE_ENVELOPE

    @extend_schema(operation_id="ping", tags=["Ping"], responses={200: OpenApiResponse()})
    def get(self, request):
        return Response(status=200)


class MeView(VantageMixin, APIView):
    @extend_schema(
        operation_id="getMe", tags=["Me"], responses={200: MeSerializer, **vantage_errors()}
    )
    def get(self, request):
        organization = self.get_organization()
        workspaces = list(selectors.reachable_workspaces(request, organization))
        default = next(
            (w for w in workspaces if w.is_default), workspaces[0] if workspaces else None
        )
        token = selectors.request_token(request)
        if token is not None:
            bearer = {
                "token": token.display_id,
                "description": token.name,
                "created_at": token.created_at,
                "scope": [s for s in (Scope.READ, Scope.WRITE) if s in token.scopes],
            }
        else:
            bearer = {
                "token": "",
                "description": f"session of {request.user.get_username()}",
                "created_at": request.user.date_joined,
                "scope": ["read", "write"]
                if selectors.can_write(request, organization)
                else ["read"],
            }
        bearer["created_at"] = utc_timestamp(bearer["created_at"])
        body = {
            "default_workspace_token": default.token if default else None,
            "workspaces": WorkspaceSerializer(workspaces, many=True).data,
            "bearer_token": bearer,
        }
        return Response(body)


@extend_schema_view(
    get=extend_schema(
        operation_id="getWorkspaces",
        tags=["Workspaces"],
        parameters=[
            OpenApiParameter("page", int, description="The page of results to return."),
            OpenApiParameter("limit", int, description="The amount of results (max 1000)."),
            OpenApiParameter("q", str, description="Search workspaces by name."),
        ],
        responses={200: WorkspaceSerializer(many=True), **vantage_errors(400)},
    )
)
class WorkspaceListView(VantageMixin, generics.ListAPIView):
    serializer_class = WorkspaceSerializer
    results_key = "workspaces"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Workspace.objects.none()
        workspaces = selectors.reachable_workspaces(self.request, self.get_organization())
        query = self.request.query_params.get("q")
        if query:
            workspaces = workspaces.filter(name__icontains=query)
        return workspaces.order_by("created_at", "id")


@extend_schema_view(
    get=extend_schema(
        operation_id="getWorkspace",
        tags=["Workspaces"],
        responses={200: WorkspaceSerializer, **vantage_errors(404)},
    )
)
class WorkspaceDetailView(VantageMixin, generics.RetrieveAPIView):
    serializer_class = WorkspaceSerializer
    lookup_field = "token"
    lookup_url_kwarg = "workspace_token"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Workspace.objects.none()
        return selectors.reachable_workspaces(self.request, self.get_organization())
