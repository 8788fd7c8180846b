"""The OpenAPI description of seed 002's bodies says what the serializers enforce: no key
beyond the documented ones, strings that are not blank once trimmed, at most 50 predicates, a
predicate always whole (even in a PATCH), and a PATCH that sets at least one field. A client
(or a fuzzer) built from the document then sends nothing the API refuses."""

from drf_spectacular.extensions import OpenApiSerializerExtension

from core.schema import AutoSchema

from ..models import MAX_FILTERS

NOT_BLANK = r"\S"


class StrictKeysExtension(OpenApiSerializerExtension):
    target_class = "filter_segments.api.serializers.StrictKeysMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        from .serializers import PredicateSerializer

        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction != "request":
            return schema
        schema["additionalProperties"] = False
        for prop in schema["properties"].values():
            if prop.get("type") == "string":
                prop["pattern"] = NOT_BLANK  # values are trimmed: "  " is blank
        if "filters" in schema["properties"]:
            schema["properties"]["filters"]["maxItems"] = MAX_FILTERS
        if isinstance(self.target, PredicateSerializer):
            schema["required"] = list(schema["properties"])
        elif auto_schema.method == "PATCH":
            schema["minProperties"] = 1
        return schema


class FilterSegmentAutoSchema(AutoSchema):
    """A PATCH body is required too: an empty one is the seed's "no fields provided" 400."""

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        return schema, required or (self.method == "PATCH" and schema is not None)
