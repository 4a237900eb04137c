"""Compile a parsed log search query into a parameterised DuckDB ``WHERE`` fragment.

Safety rule: the SQL text is built only from constants in this module and column names from
``schema.COLUMNS`` (checked against ``_COLUMN_NAME_RE``). Every value the user typed, including
JSON paths built from attribute names, travels as a ``?`` parameter.

Matching rules (see docs/log-search.md for the user-facing version):

- Free text and ``"phrases"`` search the message as a case-insensitive substring.
- ``attribute:value`` is exact and case sensitive, as in Datadog; ``*`` / ``?`` make it a
  ``LIKE`` pattern. ``status`` is the exception: the store keeps the canonical level (the ingest
  applies Datadog's status remapper, ``schema.canonical_status``), and the typed value is reduced
  to its level the same way, so ``status:ERROR`` compiles to ``status = 'error'`` and finds
  events that arrived as ``ERROR``, ``err`` or ``3``. A plain column comparison keeps the
  column's statistics and zone maps useful, which the remapper as a ``CASE`` at query time did not.
- Attributes missing from ``schema.ATTRIBUTE_COLUMNS`` are read from the ``attrs`` JSON column; an
  array there matches when any element matches.
- Every leaf is wrapped in ``COALESCE(..., FALSE)`` so that a missing value is "no match" rather
  than SQL NULL; otherwise ``-service:x`` would silently drop events that have no service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from backline.logs import schema
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
)
from backline.logs.query.parser import ATTRIBUTE_NAME_RE, parse, parse_number

_COLUMN_NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")
_NUMERIC_TYPES = frozenset({"INTEGER", "BIGINT", "DOUBLE"})
JSON_COLUMN = "attrs"
STATUS_COLUMN = "status"
_LIKE = "LIKE ? ESCAPE '\\'"
_ILIKE = "ILIKE ? ESCAPE '\\'"
_JSON_ELEMENT = "element"
_JSON_NUMBER_TYPES = "('BIGINT', 'UBIGINT', 'DOUBLE')"

# Kept here for callers that imported them from the compiler; the rules live in ``schema``.
STATUS_LEVELS = schema.STATUS_LEVELS
SYSLOG_SEVERITIES = schema.SYSLOG_SEVERITIES


@dataclass(frozen=True)
class Compiled:
    """A ``WHERE`` fragment with ``?`` placeholders and the parameters to bind, in order."""

    sql_where: str
    params: list[object] = field(default_factory=list)


def compile_query(text: str) -> Compiled:
    """Parse and compile a query; raise ``QuerySyntaxError`` on bad input. Empty -> ``TRUE``."""
    return compile_node(parse(text))


def compile_node(node: Node) -> Compiled:
    """Compile an already-parsed (or programmatically built) query tree."""
    params: list[object] = []
    sql = _compile(node, params)
    return Compiled(sql, params)


def canonical_status(value: str) -> str | None:
    """The Datadog level a status string maps to; None when only the info fallback would apply."""
    return schema.status_level(value)


def _checked_column(name: str) -> str:
    if name not in schema.COLUMNS or not _COLUMN_NAME_RE.fullmatch(name):
        raise ValueError(f"not a known column: {name!r}")  # a schema bug, never user input
    return name


def json_path(attribute: str) -> str:
    """The DuckDB JSON path for an attribute name: ``payload.icn`` -> ``$."payload"."icn"``."""
    if not ATTRIBUTE_NAME_RE.fullmatch(attribute):
        raise ValueError(f"not a valid attribute name: {attribute!r}")
    return "$." + ".".join(f'"{segment}"' for segment in attribute.split("."))


# A predicate builder takes the SQL of a text value and returns (sql, params) of a test on it.
_Predicate = Callable[[str], tuple[str, list[object]]]


def _on_attribute(attribute: str, test: _Predicate, *, numeric: bool) -> tuple[str, list[object]]:
    """Apply ``test`` to where ``attribute`` lives: a typed column or a JSON path in ``attrs``.

    ``test`` receives a VARCHAR expression, or a DOUBLE one when ``numeric`` is set; it may use the
    expression several times, so the expression itself never carries a parameter.
    """
    column = schema.ATTRIBUTE_COLUMNS.get(attribute)
    if column is not None:
        name = _checked_column(column)
        column_type = schema.COLUMNS[name]
        if numeric:
            if column_type in _NUMERIC_TYPES:
                return test(name)
            if column_type == "TIMESTAMP":
                return test(f"epoch_ms({name})")
            return test(f"TRY_CAST({name} AS DOUBLE)")
        if column_type == "VARCHAR":
            return test(name)
        return test(f"CAST({name} AS VARCHAR)")

    # The value and, when it is an array, each element, as one list of JSON values: an array
    # attribute matches when any element does, as in Datadog. Going through a lambda also lets
    # ``test`` repeat its operand without repeating the path parameters.
    path = json_path(attribute)
    text = f"json_extract_string({_JSON_ELEMENT}, '$')"
    operand = f"TRY_CAST({text} AS DOUBLE)" if numeric else text
    test_sql, test_params = test(operand)
    sql = (
        f"list_bool_or(list_transform(list_concat([json_extract({JSON_COLUMN}, ?)], "
        f"json_extract({JSON_COLUMN}, ?)), lambda {_JSON_ELEMENT}: {test_sql}))"
    )
    return sql, [path, path + "[*]", *test_params]


def _pattern_test(pattern: Pattern, *, numeric_json: bool) -> _Predicate:
    """Exact or wildcard match of a text expression against a typed value."""

    def test(expression: str) -> tuple[str, list[object]]:
        if pattern.has_wildcards:
            return f"{expression} {_LIKE}", [pattern.like()]
        number = parse_number(pattern.text) if numeric_json else None
        if number is not None:
            # A JSON number's text is in its own spelling (5 vs 5.0), so numbers compare as
            # numbers; a JSON string such as "005" still needs the exact text.
            return (
                f"({expression} = ? OR (json_type({_JSON_ELEMENT}) IN {_JSON_NUMBER_TYPES} "
                f"AND TRY_CAST({expression} AS DOUBLE) = ?))",
                [pattern.text, number],
            )
        return f"{expression} = ?", [pattern.text]

    return test


def _compile_match(node: Match) -> tuple[str, list[object]]:
    column = schema.ATTRIBUTE_COLUMNS.get(node.attribute)
    pattern = node.pattern
    if column == STATUS_COLUMN:
        return _compile_status(pattern)
    numeric_column = column is not None and schema.COLUMNS[column] in _NUMERIC_TYPES
    if numeric_column and not pattern.has_wildcards:
        number = parse_number(pattern.text)
        if number is not None:
            return _on_attribute(
                node.attribute, lambda expression: (f"{expression} = ?", [number]), numeric=True
            )
    return _on_attribute(
        node.attribute, _pattern_test(pattern, numeric_json=column is None), numeric=False
    )


def _compile_status(pattern: Pattern) -> tuple[str, list[object]]:
    # The column holds canonical levels only (lower case), so a wildcard runs on those.
    if pattern.has_wildcards:
        lowered = Pattern(pattern.text.lower(), pattern.wildcards)
        return f"{STATUS_COLUMN} {_LIKE}", [lowered.like()]
    level = canonical_status(pattern.text)
    if level is None:
        # Not a level name: compare as typed, so a misspelt level finds nothing instead of info.
        return f"{STATUS_COLUMN} = ?", [pattern.text]
    return f"{STATUS_COLUMN} = ?", [level]


def _compile_exists(node: Exists) -> tuple[str, list[object]]:
    column = schema.ATTRIBUTE_COLUMNS.get(node.attribute)
    if column is not None:
        return f"{_checked_column(column)} IS NOT NULL", []
    # JSON null counts as absent, the same as a NULL column.
    return f"json_extract_string({JSON_COLUMN}, ?) IS NOT NULL", [json_path(node.attribute)]


def _compile_compare(node: Compare) -> tuple[str, list[object]]:
    operator = {">": ">", ">=": ">=", "<": "<", "<=": "<="}[node.operator]

    def test(expression: str) -> tuple[str, list[object]]:
        return f"{expression} {operator} ?", [node.number]

    return _on_attribute(node.attribute, test, numeric=True)


def _compile_range(node: Range) -> tuple[str, list[object]]:
    def test(expression: str) -> tuple[str, list[object]]:
        parts: list[str] = [f"{expression} IS NOT NULL"]
        params: list[object] = []
        if node.low is not None:
            parts.append(f"{expression} {'>=' if node.low_inclusive else '>'} ?")
            params.append(node.low)
        if node.high is not None:
            parts.append(f"{expression} {'<=' if node.high_inclusive else '<'} ?")
            params.append(node.high)
        return "(" + " AND ".join(parts) + ")", params

    return _on_attribute(node.attribute, test, numeric=True)


def _substring(pattern: Pattern) -> str:
    return "%" + pattern.like() + "%"


def _compile_full_text(node: FullText) -> tuple[str, list[object]]:
    if node.pattern.matches_anything:
        return "TRUE", []
    parts: list[str] = []
    params: list[object] = []
    for name, column_type in schema.COLUMNS.items():
        column = _checked_column(name)
        if column_type == "TIMESTAMP":
            continue
        expression = column if column_type == "VARCHAR" else f"CAST({column} AS VARCHAR)"
        parts.append(f"{expression} {_ILIKE}")
        params.append(_substring(node.pattern))
    return "(" + " OR ".join(parts) + ")", params


def _leaf(sql: str) -> str:
    return f"COALESCE({sql}, FALSE)"


def _compile(node: Node, params: list[object]) -> str:
    if isinstance(node, MatchAll):
        return "TRUE"
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(_compile(child, params) for child in node.children) + ")"
    if isinstance(node, Not):
        return f"(NOT {_compile(node.child, params)})"
    if isinstance(node, Text):
        if node.pattern.matches_anything and not node.quoted:
            return "TRUE"
        params.append(_substring(node.pattern))
        return _leaf(f"message {_ILIKE}")
    if isinstance(node, FullText):
        sql, extra = _compile_full_text(node)
    elif isinstance(node, Match):
        sql, extra = _compile_match(node)
    elif isinstance(node, Exists):
        sql, extra = _compile_exists(node)
    elif isinstance(node, Compare):
        sql, extra = _compile_compare(node)
    else:
        sql, extra = _compile_range(node)
    params.extend(extra)
    return _leaf(sql)
