"""The Datadog log search language: parse a query, inspect it, compile it to DuckDB SQL.

Framework-free: imports nothing from Django. ``compile_query`` is the entry point for the log
store; ``parse`` and ``referenced_attributes`` let other code look inside a query (for example to
see whether it filters on a protected attribute); ``timerange`` reads the ``from``/``to`` values
that go with a query. The syntax is documented for users in docs/log-search.md.
"""

from backline.logs.query.compile import Compiled, canonical_status, compile_node, compile_query
from backline.logs.query.errors import QuerySyntaxError
from backline.logs.query.lexer import Pattern
from backline.logs.query.nodes import (
    And,
    Compare,
    Exists,
    FullText,
    Match,
    MatchAll,
    Node,
    Not,
    Or,
    Range,
    Text,
    referenced_attributes,
    walk,
)
from backline.logs.query.parser import parse
from backline.logs.query.timerange import TimeRange, TimeRangeError, parse_range, parse_time

__all__ = [
    "And",
    "Compare",
    "Compiled",
    "Exists",
    "FullText",
    "Match",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Pattern",
    "QuerySyntaxError",
    "Range",
    "Text",
    "TimeRange",
    "TimeRangeError",
    "canonical_status",
    "compile_node",
    "compile_query",
    "parse",
    "parse_range",
    "parse_time",
    "referenced_attributes",
    "walk",
]
