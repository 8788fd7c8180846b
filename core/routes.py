"""Routes that answer with and without a trailing slash: the one way the API spells that."""

from django.urls import URLPattern, path, re_path

from .schema import alias


def optional_slash(
    route: str, view, name: str, *, slash: bool = False, **initkwargs
) -> list[URLPattern]:
    """``route`` and ``route/``, both answered by ``view`` (a view class, given ``initkwargs``
    as ``as_view()`` takes them); neither redirects.

    The documented spelling (without the slash, or with it when ``slash``) carries ``name``,
    so ``reverse`` gives it, and is the one in the OpenAPI document; the other is an alias
    (``core.schema.alias``). ``route`` is a ``path()`` route, or a regular expression when it
    starts with ``^`` (without the closing ``$``).
    """
    bare, slashed = (f"{route}$", f"{route}/$") if route.startswith("^") else (route, f"{route}/")
    documented, other = (slashed, bare) if slash else (bare, slashed)
    make = re_path if route.startswith("^") else path
    return [
        make(documented, view.as_view(**initkwargs), name=name),
        make(other, alias(view.as_view(**initkwargs))),
    ]
