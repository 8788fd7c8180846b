"""VQL (Vantage's filter language) to and from the filter tree.

Parsing runs in three steps, one module each: ``syntax`` (the LALR parser over ``vql.lark``
builds a small syntax tree that keeps offsets), ``rules`` and ``build`` (the syntax tree
becomes filter-tree nodes, applying Vantage's rules and the meaning of ``tags.name`` /
``tags.value``), then ``tree.validate`` checks fields against providers. Every failure is a
``FilterError`` that names its position. ``render`` turns a tree back into canonical VQL.
"""

from .build import parse_vql
from .render import quote, render_vql
from .syntax import MAX_LENGTH

__all__ = ["MAX_LENGTH", "parse_vql", "quote", "render_vql"]
