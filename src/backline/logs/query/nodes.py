"""The parsed form of a log search query: small immutable dataclasses other code may inspect.

Attribute names are stored without the leading ``@`` (``@http.status_code`` is
``http.status_code``); ``service:x`` and ``@service:x`` parse to the same node. A grouped value
such as ``env:(prod OR test)`` is spread over its values while parsing, so every leaf names its
attribute.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from backline.logs.query.lexer import Pattern

ComparisonOperator = Literal[">", ">=", "<", "<="]


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty query: every event."""


@dataclass(frozen=True, slots=True)
class Text:
    """Free text: a word or ``"quoted phrase"`` searched in the message, ignoring case."""

    pattern: Pattern
    quoted: bool


@dataclass(frozen=True, slots=True)
class FullText:
    """``*:value``: the value searched in the message and every attribute, ignoring case."""

    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Match:
    """``attribute:value``: an exact (case-sensitive) match, or a wildcard pattern."""

    attribute: str
    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Exists:
    """``attribute:*``: the attribute is present (not null)."""

    attribute: str


@dataclass(frozen=True, slots=True)
class Compare:
    """``attribute:>n`` and friends: a numeric comparison."""

    attribute: str
    operator: ComparisonOperator
    number: float


@dataclass(frozen=True, slots=True)
class Range:
    """``attribute:[low TO high]`` (inclusive) or ``{low TO high}`` (exclusive); ``*`` = open."""

    attribute: str
    low: float | None
    high: float | None
    low_inclusive: bool
    high_inclusive: bool


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT x`` or ``-x``."""

    child: Node


@dataclass(frozen=True, slots=True)
class And:
    """``a AND b`` (also written ``a b``)."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """``a OR b``."""

    children: tuple[Node, ...]


Node = MatchAll | Text | FullText | Match | Exists | Compare | Range | Not | And | Or
AttributeNode = Match | Exists | Compare | Range


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Not):
            stack.append(current.child)
        elif isinstance(current, And | Or):
            stack.extend(reversed(current.children))


def referenced_attributes(node: Node) -> set[str]:
    """The attribute names (without ``@``) that the query filters on.

    Free text and ``*:`` full-text search name no attribute and add nothing. Names are as typed
    (``usr.id`` and ``user_uuid`` stay distinct even though both read the ``user_id`` column);
    map them through ``schema.ATTRIBUTE_COLUMNS`` to learn which column is involved.
    """
    return {n.attribute for n in walk(node) if isinstance(n, Match | Exists | Compare | Range)}
