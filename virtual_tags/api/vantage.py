"""Vantage's v2 virtual tags: ``/v2/virtual_tag_configs``, their values, status and async updates.

Shapes follow ``@vantage-sh/vantage-client``'s types field for field; errors are
``{"errors": [...]}`` naming the field. Costline adds ``/history`` (every change: who, when, the
definition after it, the money it moved) and ``/preview`` (the money a proposed definition would
move, nothing saved); see docs/virtual-tags.md.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFoundError, ServiceError, UnprocessableError
from core.vantage import vantage_errors
from organizations.tenancy import VantageMixin
from reports.api.vantage import user_token

from .. import selectors, services
from ..models import AsyncUpdate, VirtualTagConfig
from . import serializers as wire

TAGS = ["VirtualTags"]


def value_json(value: dict) -> dict:
    shaped = {
        "token": value["token"],
        "filter": value.get("filter"),
        "name": value.get("name"),
        "business_metric_token": value.get("business_metric_token"),
        "label_key": value.get("label_key"),
        "label_values": value.get("label_values"),
        "display_name": value.get("display_name"),
        "label_transforms": value.get("label_transforms") or [],
        "percentages": value.get("percentages") or [],
        "date_ranges": value.get("date_ranges") or [],
    }
    if value.get("cost_metric"):
        shaped["cost_metric"] = value["cost_metric"]
    return shaped


def config_json(config: VirtualTagConfig) -> dict:
    return {
        "token": config.token,
        "created_by_token": user_token(config.created_by_id),
        "key": config.key,
        "overridable": config.overridable,
        "backfill_until": config.backfill_until.isoformat(),
        "collapsed_tag_keys": config.collapsed_tag_keys,
        "values": [value_json(value) for value in config.values],
    }


def body_of(request, serializer_class) -> dict:
    """The request's JSON body checked against ``serializer_class`` (types, enums, required
    fields; a 400 naming the field), with only the fields it names."""
    if not request.body or not isinstance(request.data, dict):
        raise ServiceError("The request body must be a JSON object.")
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    # null for "leave as it is" in an update, as Vantage's nullable update fields mean.
    return {
        name: value
        for name, value in body.validated_data.items()
        if not (value is None and name in ("overridable", "backfill_until"))
    }


class VirtualTagView(VantageMixin, APIView):
    def configs(self):
        return selectors.configs_visible(self.get_organization())

    def config(self, token: str) -> VirtualTagConfig:
        found = self.configs().filter(token=token).first()
        if found is None:
            raise NotFoundError("Virtual tag config not found.")
        return found

    def value_of(self, config: VirtualTagConfig, token: str) -> dict:
        found = next((value for value in config.values if value["token"] == token), None)
        if found is None:
            raise NotFoundError("Virtual tag config value not found.")
        return found


class ConfigListView(VirtualTagView):
    @extend_schema(
        operation_id="getVirtualTagConfigs",
        tags=TAGS,
        parameters=[OpenApiParameter("q", str, description="Search by key.")],
        responses={200: wire.ConfigListSerializer, **vantage_errors(400)},
    )
    def get(self, request):
        configs = self.configs()
        if request.query_params.get("q"):
            configs = configs.filter(key__icontains=request.query_params["q"])
        return Response({"virtual_tag_configs": [config_json(c) for c in configs]})

    @extend_schema(
        operation_id="createVirtualTagConfig",
        tags=TAGS,
        request=wire.ConfigCreateSerializer,
        responses={201: wire.ConfigSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        data = body_of(request, wire.ConfigCreateSerializer)
        config = services.config_create(self.get_organization(), user=request.user, **data)
        return Response(config_json(config), status=status.HTTP_201_CREATED)


class ConfigDetailView(VirtualTagView):
    @extend_schema(
        operation_id="getVirtualTagConfig",
        tags=TAGS,
        responses={200: wire.ConfigSerializer, **vantage_errors(404)},
    )
    def get(self, request, token):
        return Response(config_json(self.config(token)))

    @extend_schema(
        operation_id="updateVirtualTagConfig",
        tags=TAGS,
        request=wire.ConfigUpdateSerializer,
        responses={200: wire.ConfigSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def put(self, request, token):
        config = self.config(token)
        body = body_of(request, wire.ConfigUpdateSerializer)
        config = services.config_update(config, user=request.user, **body)
        return Response(config_json(config))

    @extend_schema(
        operation_id="deleteVirtualTagConfig",
        tags=TAGS,
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, token):
        services.config_delete(self.config(token), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConfigStatusView(VirtualTagView):
    @extend_schema(
        operation_id="getVirtualTagConfigStatus",
        tags=TAGS,
        responses={200: wire.StatusSerializer, 202: wire.StatusSerializer, **vantage_errors(404)},
    )
    def get(self, request, token):
        state = selectors.status_of(self.config(token))
        code = status.HTTP_202_ACCEPTED if state["processing"] else status.HTTP_200_OK
        return Response(state, status=code)


class ConfigAsyncUpdateView(VirtualTagView):
    @extend_schema(
        operation_id="updateAsyncVirtualTagConfig",
        tags=TAGS,
        request=wire.ConfigUpdateSerializer,
        responses={
            202: inline_serializer(
                "AsyncVirtualTagConfigUpdate",
                {"request_id": serializers.CharField(), "status_url": serializers.CharField()},
            ),
            **vantage_errors(400, 403, 404, 422),
        },
    )
    def put(self, request, token):
        config = self.config(token)
        body = body_of(request, wire.ConfigUpdateSerializer)
        update = services.config_update_async(config, user=request.user, **body)
        return Response(
            {
                "request_id": str(update.request_id),
                "status_url": f"/v2/virtual_tag_configs/async/{update.request_id}",
            },
            status=status.HTTP_202_ACCEPTED,
        )


class AsyncStatusView(VirtualTagView):
    @extend_schema(
        operation_id="getAsyncVirtualTagConfigStatus",
        tags=TAGS,
        responses={200: None, **vantage_errors(404)},
    )
    def get(self, request, request_id):
        update = selectors.async_update(self.get_organization(), request_id)
        # Vantage's client reads this as a boolean: 200 done, 404 not (yet) there.
        if update is None or update.status == AsyncUpdate.State.PENDING:
            raise NotFoundError("No finished update with that request id.")
        if update.status == AsyncUpdate.State.FAILED:
            raise UnprocessableError(update.error or "The update failed.")
        return Response(
            {"request_id": str(update.request_id), "status": update.status},
            status=status.HTTP_200_OK,
        )


class ValueListView(VirtualTagView):
    @extend_schema(
        operation_id="createVirtualTagConfigValue",
        tags=TAGS,
        request=wire.ValueBodySerializer,
        responses={201: wire.ValueSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request, virtual_tag_config_token):
        config = self.config(virtual_tag_config_token)
        body = body_of(request, wire.ValueBodySerializer)
        value = services.value_create(config, body, user=request.user)
        return Response(value_json(value), status=status.HTTP_201_CREATED)


class ValueDetailView(VirtualTagView):
    @extend_schema(
        operation_id="getVirtualTagConfigValue",
        tags=TAGS,
        responses={200: wire.ValueSerializer, **vantage_errors(404)},
    )
    def get(self, request, virtual_tag_config_token, virtual_tag_config_value_token):
        config = self.config(virtual_tag_config_token)
        return Response(value_json(self.value_of(config, virtual_tag_config_value_token)))

    @extend_schema(
        operation_id="updateVirtualTagConfigValue",
        tags=TAGS,
        request=wire.ValueUpdateSerializer,
        responses={200: wire.ValueSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def patch(self, request, virtual_tag_config_token, virtual_tag_config_value_token):
        config = self.config(virtual_tag_config_token)
        self.value_of(config, virtual_tag_config_value_token)
        body = body_of(request, wire.ValueUpdateSerializer)
        value = services.value_update(
            config, virtual_tag_config_value_token, body, user=request.user
        )
        return Response(value_json(value))

    @extend_schema(
        operation_id="deleteVirtualTagConfigValue",
        tags=TAGS,
        responses={204: None, **vantage_errors(403, 404)},
    )
    def delete(self, request, virtual_tag_config_token, virtual_tag_config_value_token):
        config = self.config(virtual_tag_config_token)
        self.value_of(config, virtual_tag_config_value_token)
        services.value_delete(config, virtual_tag_config_value_token, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConfigHistoryView(VirtualTagView):
    @extend_schema(
        operation_id="getVirtualTagConfigHistory",
        tags=TAGS,
        description="Costline: every change of the config, newest first.",
        responses={200: wire.HistorySerializer, **vantage_errors(404)},
    )
    def get(self, request, token):
        config = self.config(token)
        return Response({"history": selectors.history_of(config)})


class PreviewView(VirtualTagView):
    @extend_schema(
        operation_id="previewVirtualTagConfig",
        tags=TAGS,
        description="Costline: the money a proposed definition would move over the last full "
        "month, from which value to which (nothing is saved). Body: a create body, plus "
        "`token` to preview a change of an existing config.",
        request=wire.PreviewSerializer,
        responses={200: wire.PreviewResultSerializer, **vantage_errors(400, 403, 404, 422)},
    )
    def post(self, request):
        data = body_of(request, wire.PreviewSerializer)
        config = self.config(data["token"]) if data.get("token") else None
        moved = services.preview_request(self.get_organization(), config, data)
        return Response({"money_moved": moved})
