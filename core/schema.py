"""OpenAPI generation: the document describes what the API does on the wire, nothing else.

- ``alias`` / ``drop_aliases``: routes that exist only as spelling variants stay out of it.
- ``AutoSchema`` (DRF's ``DEFAULT_SCHEMA_CLASS``): paginated bodies name their list the way the
  view does (``segments``, ``workspaces``), request bodies are JSON unless a view declares its own
  parsers (an upload), sessions-only views document the session only, a text field that may not
  be blank says so for its trimmed value (``pattern``), fields a serializer lists
  in ``nullable_in_response`` are nullable in answers only, and a view inherits no description
  from its mixins' docstrings.
- ``error_headers``: a 401 documents ``WWW-Authenticate``, a 429 ``Retry-After``.
- ``query_parameters``: paging bounds, and optional query parameters that treat an empty value as
  "not given" say so (``allowEmptyValue``).
"""

import inspect

from drf_spectacular import openapi
from drf_spectacular.plumbing import get_doc
from rest_framework import serializers
from rest_framework.settings import api_settings

JSON = "application/json"
# At least one character that is not whitespace to Python's str.strip() nor to a JSON Schema regex.
NOT_BLANK = r"[^\s\x1c-\x1f]"


def alias(view_function):
    """Mark a URL's view as an alias (e.g. the trailing-slash spelling of a documented path)."""
    view_function.schema_alias = True
    return view_function


def drop_aliases(endpoints, **kwargs):
    """drf-spectacular preprocessing hook: document each path once, in its canonical spelling."""
    return [endpoint for endpoint in endpoints if not getattr(endpoint[3], "schema_alias", False)]


def _view_docstring(cls) -> str:
    """The view's docstring, or the nearest one of a view (not a mixin) it extends."""
    for klass in cls.__mro__:
        if klass.__module__.startswith(("rest_framework", "django")):
            return ""
        doc = klass.__dict__.get("__doc__")
        if doc:
            return "" if klass.__name__.endswith("Mixin") else inspect.cleandoc(doc)
    return ""


class AutoSchema(openapi.AutoSchema):
    def _get_paginator(self):
        paginator = super()._get_paginator()
        results_key = getattr(self.view, "results_key", None)
        if paginator is not None and results_key:
            # The view names the list at request time; the document needs the same name.
            paginator.results_key = results_key
        return paginator

    def map_parsers(self):
        parsers = super().map_parsers()
        declared = getattr(self.view, "parser_classes", None)
        if declared == api_settings.DEFAULT_PARSER_CLASSES and JSON in parsers:
            # Form encodings cannot carry the nested lists and nulls of our bodies: the API is
            # JSON. A view that takes something else (a file upload) declares its parsers.
            return [JSON]
        return parsers

    def get_auth(self):
        auths = super().get_auth()
        if any(
            getattr(permission, "__name__", "") == "SessionOnly"
            for permission in getattr(self.view, "permission_classes", [])
        ):
            # API tokens get a 403 there: the session is the only way in.
            return [auth for auth in auths if "SessionCookie" in auth] or auths
        return auths

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A field a serializer reads as a value but answers as null in some states.
        nullable = getattr(getattr(field, "parent", None), "nullable_in_response", ())
        if direction == "response" and field.field_name in nullable:
            schema["nullable"] = True
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and schema.get("type") == "string"
            and not ({"pattern", "format", "enum"} & set(schema))
        ):
            # DRF trims the value first: only spaces is blank (400), so say "a visible character".
            schema["pattern"] = NOT_BLANK
        return schema

    def get_description(self):
        action = getattr(self.view, getattr(self.view, "action", self.method.lower()), None)
        return get_doc(action) or _view_docstring(self.view.__class__)


def _paging_bounds() -> dict:
    # Imported here: core.pagination imports DRF settings, which load this module's AutoSchema.
    from . import pagination
    from .pagination import PageNumberPagination, VantagePagination

    page = {"minimum": 1}
    if getattr(pagination, "MAX_PAGE", None):
        page["maximum"] = pagination.MAX_PAGE
    return {
        "page": page,
        "limit": {"minimum": 1, "maximum": VantagePagination.max_limit},
        "page_size": {"minimum": 1, "maximum": PageNumberPagination.max_page_size},
    }


def query_parameters(result, generator, request, public):
    """drf-spectacular postprocessing hook for the query parameters every list shares.

    - Paging (``page``, ``limit``, ``page_size``) is parsed by core.pagination everywhere: its
      bounds are the same on every operation (outside them: 400).
    - ``?name=`` means "not given" for an optional query parameter: DRF serializers (for form
      and query input), django-filter and our own parsing all skip empty values. A required one
      is a 400 when empty.
    """
    bounds = _paging_bounds()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.setdefault("schema", {})
                if parameter.get("name") in bounds and schema.get("type") == "integer":
                    schema.update(bounds[parameter["name"]])
                if (
                    not parameter.get("required")
                    and "allowEmptyValue" not in parameter
                    and schema.get("type") != "array"  # an empty value is a list of one ""
                ):
                    parameter["allowEmptyValue"] = True
    return result


ERROR_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": 'The scheme to authenticate with: Bearer realm="api".',
            "required": True,
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


def error_headers(result, generator, request, public):
    """drf-spectacular postprocessing hook: a 401 names the scheme to use (DRF sends
    ``WWW-Authenticate`` with every 401) and a 429 says when to retry (``Retry-After``)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for code, headers in ERROR_HEADERS.items():
                response = operation.get("responses", {}).get(code)
                if response is not None:
                    response.setdefault("headers", {}).update(headers)
    return result
