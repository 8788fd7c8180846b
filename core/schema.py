"""OpenAPI helpers: routes that exist only as spelling variants stay out of the document."""


def alias(view_function):
    """Mark a URL's view as an alias (e.g. the trailing-slash spelling of a documented path)."""
    view_function.schema_alias = True
    return view_function


def drop_aliases(endpoints, **kwargs):
    """drf-spectacular preprocessing hook: document each path once, in its canonical spelling."""
    return [endpoint for endpoint in endpoints if not getattr(endpoint[3], "schema_alias", False)]
