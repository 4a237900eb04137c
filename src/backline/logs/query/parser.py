"""Recursive-descent parser for the Datadog log search language, producing ``nodes`` trees.

Grammar (``field`` is ``None`` at the top level, and the attribute name inside ``field:( ... )``)::

    query    := or? EOF
    or       := and ("OR" and)*
    and      := unary (["AND"] unary)*          # no operator between terms means AND
    unary    := ("NOT" | "-") unary | primary
    primary  := "(" or ")" | PHRASE | NAME ":" value | WORD       # NAME ":" only when field is None
    value    := "(" or ")" | PHRASE | range | ("<" | "<=" | ">" | ">=") NUMBER | WORD
    range    := ("[" | "{") bound "TO" bound ("]" | "}")       # bound is a number or *

Precedence is NOT > AND > OR, so ``a OR b c`` means ``a OR (b AND c)``. Operators are case
sensitive (``and`` is a search word). ``-`` negates only at the start of a term: ``vets-api`` is one
word. Right after ``field:`` a leading ``-`` is part of the value (``@offset:-5``).
"""

from __future__ import annotations

import math
import re

from backline.logs.query.errors import QuerySyntaxError
from backline.logs.query.lexer import (
    RANGE_BOUND_STOP,
    WHITESPACE,
    WORD_STOP,
    Pattern,
    Word,
    keyword_at,
    keyword_length,
    read_phrase,
    read_word,
    skip_whitespace,
)
from backline.logs.query.nodes import (
    And,
    Compare,
    ComparisonOperator,
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

MAX_QUERY_LENGTH = 10_000
# Deep enough for any query a person writes; shallow enough that Python's recursion limit is
# never reached, so pathological input gets a QuerySyntaxError rather than a RecursionError.
MAX_NESTING = 100

FULL_TEXT_FIELD = "*"
# Dotted attribute paths: letters, digits, ``_`` and ``-`` per segment. Anything else is refused
# here so that a name can only ever become a validated JSON path parameter or a known column.
ATTRIBUTE_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*")
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

_FIELD_WORD_STOP = frozenset(WORD_STOP | {":"})
_COMPARISONS: tuple[ComparisonOperator, ...] = (">=", "<=", ">", "<")


def parse(text: str) -> Node:
    """Parse a query into a tree of ``nodes``; raise ``QuerySyntaxError`` on bad input."""
    return _Parser(text).parse()


def parse_number(text: str) -> float | None:
    """The value of a decimal number as typed in a query, or None when it is not one."""
    if not NUMBER_RE.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    # -- helpers ---------------------------------------------------------------------------

    def _error(self, message: str, position: int, expected: str) -> QuerySyntaxError:
        return QuerySyntaxError(message, position, expected)

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _char(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip(self) -> None:
        self.pos = skip_whitespace(self.text, self.pos)

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self._error(
                f"the query nests deeper than {MAX_NESTING} levels", self.pos, "a simpler query"
            )

    def _leave(self) -> None:
        self.depth -= 1

    # -- grammar ---------------------------------------------------------------------------

    def parse(self) -> Node:
        if len(self.text) > MAX_QUERY_LENGTH:
            raise self._error(
                f"the query is longer than {MAX_QUERY_LENGTH} characters",
                MAX_QUERY_LENGTH,
                "a shorter query",
            )
        self._skip()
        if self._at_end():
            return MatchAll()
        node = self._or(None)
        self._skip()
        if not self._at_end():
            # Only an unmatched ')' can stop the top-level loop before the end.
            raise self._error("unexpected ')' with no matching '('", self.pos, "end of query")
        return node

    def _or(self, field: str | None) -> Node:
        self._enter()
        children = [self._and(field)]
        while True:
            self._skip()
            if keyword_at(self.text, self.pos) != "OR":
                break
            self.pos += keyword_length(self.text, self.pos)
            self._skip()
            children.append(self._and(field))
        self._leave()
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self, field: str | None) -> Node:
        children = [self._unary(field)]
        while True:
            self._skip()
            if self._at_end() or self._char() == ")":
                break
            keyword = keyword_at(self.text, self.pos)
            if keyword == "OR":
                break
            if keyword == "AND":
                self.pos += keyword_length(self.text, self.pos)
                self._skip()
            children.append(self._unary(field))
        return children[0] if len(children) == 1 else And(tuple(children))

    def _unary(self, field: str | None) -> Node:
        self._enter()
        try:
            if keyword_at(self.text, self.pos) == "NOT":
                self.pos += keyword_length(self.text, self.pos)
                self._skip()
                return Not(self._unary(field))
            if self._char() == "-":
                after = self.pos + 1
                if after >= len(self.text) or self.text[after] in WHITESPACE | {")"}:
                    raise self._error("expected a term after '-'", after, "a search term")
                self.pos = after
                return Not(self._unary(field))
            return self._primary(field)
        finally:
            self._leave()

    def _primary(self, field: str | None) -> Node:
        if self._at_end():
            what = "a value" if field is not None else "a search term"
            raise self._error(f"expected {what}", self.pos, what)
        ch = self._char()
        if ch == "(":
            return self._group(field)
        if ch == ")":
            raise self._error("expected a search term before ')'", self.pos, "a search term")
        keyword = keyword_at(self.text, self.pos)
        if keyword is not None:
            what = "a value" if field is not None else "a search term"
            raise self._error(f"expected {what} before '{keyword}'", self.pos, what)
        if ch == '"':
            phrase = read_phrase(self.text, self.pos)
            self.pos = phrase.end
            if field is None:
                return Text(phrase.pattern, quoted=True)
            return self._value_node(field, phrase, quoted=True)
        if field is not None:
            return self._value(field)
        word = read_word(self.text, self.pos, _FIELD_WORD_STOP)
        if self.text.startswith(":", word.end):
            self.pos = word.end + 1
            return self._field_value(self._attribute_name(word))
        self.pos = word.end
        return Text(word.pattern, quoted=False)

    def _group(self, field: str | None) -> Node:
        self.pos += 1
        self._skip()
        if self._char() == ")":
            raise self._error("empty parentheses", self.pos, "a search term")
        node = self._or(field)
        self._skip()
        if self._char() != ")":
            raise self._error("expected ')'", self.pos, "')'")
        self.pos += 1
        return node

    def _attribute_name(self, word: Word) -> str:
        name = word.pattern.text
        if name == FULL_TEXT_FIELD and word.pattern.has_wildcards:
            return FULL_TEXT_FIELD
        bare = name[1:] if name.startswith("@") else name
        if word.escaped or word.pattern.has_wildcards or not ATTRIBUTE_NAME_RE.fullmatch(bare):
            raise self._error(
                f"invalid attribute name {name!r} before ':'",
                word.start,
                "an attribute name made of letters, digits, '_', '-' and '.'",
            )
        return bare

    def _field_value(self, field: str) -> Node:
        if self._at_end() or self._char() in WHITESPACE | {")"}:
            raise self._error(f"expected a value after '{field}:'", self.pos, "a value")
        return self._primary(field)

    def _value(self, field: str) -> Node:
        ch = self._char()
        if ch in "[{":
            return self._range(field)
        for operator in _COMPARISONS:
            if self.text.startswith(operator, self.pos):
                self.pos += len(operator)
                number = self._number(WORD_STOP, f"a number after '{operator}'")
                return self._comparison(field, operator, number)
        word = read_word(self.text, self.pos, WORD_STOP)
        self.pos = word.end
        return self._value_node(field, word, quoted=False)

    def _comparison(self, field: str, operator: ComparisonOperator, number: float) -> Node:
        if field == FULL_TEXT_FIELD:
            raise self._error("'*:' full-text search takes no comparison", self.pos, "a value")
        return Compare(field, operator, number)

    def _number(self, stop: frozenset[str], expected: str) -> float:
        start = self.pos
        word = read_word(self.text, self.pos, stop)
        number = parse_number(word.pattern.text) if not word.escaped else None
        if number is None:
            raise self._error(f"expected {expected}", start, expected)
        self.pos = word.end
        return number

    def _bound(self) -> float | None:
        self._skip()
        if self._char() == "*" and (
            self.pos + 1 >= len(self.text) or self.text[self.pos + 1] in RANGE_BOUND_STOP
        ):
            self.pos += 1
            return None
        return self._number(RANGE_BOUND_STOP, "a number or '*' as a range bound")

    def _range(self, field: str) -> Node:
        if field == FULL_TEXT_FIELD:
            raise self._error("'*:' full-text search takes no range", self.pos, "a value")
        low_inclusive = self._char() == "["
        self.pos += 1
        low = self._bound()
        self._skip()
        after_to = self.pos + 2
        if not (
            self.text.startswith("TO", self.pos)
            and (after_to >= len(self.text) or self.text[after_to] in RANGE_BOUND_STOP | {"*"})
        ):
            raise self._error("expected 'TO' in the range", self.pos, "'TO'")
        self.pos += 2
        high = self._bound()
        self._skip()
        closing = self._char()
        if closing not in ("]", "}"):
            raise self._error("expected ']' or '}' to close the range", self.pos, "']' or '}'")
        self.pos += 1
        if low is not None and high is not None and low > high:
            raise self._error(
                "the range's lower bound is greater than its upper bound", self.pos, "low <= high"
            )
        return Range(field, low, high, low_inclusive, closing == "]")

    def _value_node(self, field: str, word: Word, *, quoted: bool) -> Node:
        pattern: Pattern = word.pattern
        if field == FULL_TEXT_FIELD:
            return FullText(pattern)
        if not quoted and pattern.matches_anything:
            return Exists(field)
        return Match(field, pattern)
