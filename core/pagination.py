"""Pagination styles of the API surfaces."""

from __future__ import annotations

import math

from django.db.models import QuerySet
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

# Past this, an offset no longer fits the database's integers (SQLite, PostgreSQL's bigint) and
# no real listing is that long anyway.
MAX_PAGE = 2**31 - 1


def _positive_int(request, name: str, default: int, maximum: int = MAX_PAGE) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        if len(raw) > 20:
            raise ValueError
        value = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError(
            {name: [f"must be a positive integer, got '{raw}'."]}
        ) from None
    if value < 1:
        raise exceptions.ValidationError({name: ["must be at least 1."]})
    if value > maximum:
        raise exceptions.ValidationError({name: [f"must be at most {maximum}."]})
    return value


def _total(items) -> int:
    # A list has a ``count`` method too (with another meaning), so ask querysets only.
    return items.count() if isinstance(items, QuerySet) else len(items)


class VantagePagination(pagination.BasePagination):
    """Vantage v2 paging: ``page`` from 1, ``limit`` up to 1000, absolute ``links``.

    ``prev`` is null on the first page and ``next`` on the last. ``results_key`` names the list
    in the body (``segments``, ``workspaces``...).
    """

    default_limit = 100
    max_limit = 1000
    results_key = "results"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_number = _positive_int(request, "page", 1)
        self.limit = _positive_int(request, "limit", self.default_limit, self.max_limit)
        self.results_key = getattr(view, "results_key", self.results_key)
        self.count = _total(queryset)
        self.last_page = max(1, math.ceil(self.count / self.limit))
        start = (self.page_number - 1) * self.limit
        if start >= self.count:
            return []
        return list(queryset[start : start + self.limit])

    def _url(self, page: int | None) -> str | None:
        if page is None:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, "page", page)
        return url

    def get_links(self) -> dict:
        return {
            "self": self.request.build_absolute_uri(),
            "first": self._url(1),
            "next": self._url(self.page_number + 1 if self.page_number < self.last_page else None),
            "last": self._url(self.last_page),
            # Past the end, the previous page is the last one that has results.
            "prev": self._url(
                min(self.page_number - 1, self.last_page) if self.page_number > 1 else None
            ),
        }

    def get_paginated_response(self, data):
        return Response({"links": self.get_links(), self.results_key: data})

    def get_paginated_response_schema(self, schema):
        # ``results_key`` is the view's (core.schema.AutoSchema); next/prev are null at the ends.
        link = {"type": "string", "format": "uri"}
        keys = ("self", "first", "next", "last", "prev")
        return {
            "type": "object",
            "required": ["links", self.results_key],
            "properties": {
                "links": {
                    "type": "object",
                    "required": list(keys),
                    "properties": {
                        key: {**link, "nullable": True} if key in ("next", "prev") else link
                        for key in keys
                    },
                },
                self.results_key: schema,
            },
        }


class PageNumberPagination(pagination.BasePagination):
    """``page`` / ``page_size`` paging with the total ``count`` (filter segments, metrics).

    A page past the end is empty rather than an error, so clients can loop until it runs out.
    """

    default_page_size = 50
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        self.page = _positive_int(request, "page", 1)
        self.page_size = _positive_int(
            request, "page_size", self.default_page_size, self.max_page_size
        )
        self.count = _total(queryset)
        start = (self.page - 1) * self.page_size
        if start >= self.count:
            return []
        return list(queryset[start : start + self.page_size])

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "page": self.page,
                "page_size": self.page_size,
                "total_pages": max(1, math.ceil(self.count / self.page_size)),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "page", "page_size", "total_pages", "results"],
            "properties": {
                "count": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "total_pages": {"type": "integer"},
                "results": schema,
            },
        }
