"""Character-level reading of the log search language: words, quoted phrases, escapes, keywords.

The language is context sensitive (``:`` splits ``field:value`` in a term but is an ordinary
character inside a value; ``[`` opens a range only right after ``field:``), so instead of a
token stream this module offers small readers that the parser calls at a position it chooses.
Each reader returns what it read and the position just after it; none of them keeps state.

A word's unescaped ``*`` and ``?`` are wildcards; a backslash makes the next character literal.
The result of reading is a ``Pattern``, which remembers which characters were wildcards so that
``\\*`` (a literal star) and ``*`` (any run of characters) stay different all the way to SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backline.logs.query.errors import QuerySyntaxError

WHITESPACE = frozenset(" \t\r\n\f\v")
# Characters that end a word wherever it appears. ``:`` is added where a word may be a field name.
WORD_STOP = frozenset(WHITESPACE | {"(", ")", '"'})
RANGE_BOUND_STOP = frozenset(WORD_STOP | {"]", "}"})

KEYWORDS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT"}
# A keyword counts only as a whole word: ``ANDROID`` and ``OR:x`` are not operators.
_KEYWORD_RE = re.compile(r'(AND|OR|NOT|&&|\|\|)(?=[ \t\r\n\f\v()"]|\Z)')


@dataclass(frozen=True, slots=True)
class Pattern:
    """A value as typed, with escapes removed and its wildcards remembered.

    ``text`` holds the characters; ``wildcards`` the indexes in ``text`` of the unescaped ``*``
    and ``?`` characters. A quoted phrase never has wildcards.
    """

    text: str
    wildcards: frozenset[int] = frozenset()

    @property
    def has_wildcards(self) -> bool:
        """True when the value contains at least one unescaped ``*`` or ``?``."""
        return bool(self.wildcards)

    @property
    def matches_anything(self) -> bool:
        """True for ``*``, ``**`` ...: a pattern that every value (even an empty one) matches."""
        return bool(self.text) and all(
            i in self.wildcards and ch == "*" for i, ch in enumerate(self.text)
        )

    def like(self) -> str:
        """The ``LIKE ... ESCAPE '\\'`` pattern: ``*`` -> ``%``, ``?`` -> ``_``, rest literal."""
        out: list[str] = []
        for i, ch in enumerate(self.text):
            if i in self.wildcards:
                out.append("%" if ch == "*" else "_")
            elif ch in "%_\\":
                out.append("\\" + ch)
            else:
                out.append(ch)
        return "".join(out)

    def display(self) -> str:
        """The value written back in query syntax (special characters escaped)."""
        out: list[str] = []
        for i, ch in enumerate(self.text):
            if i not in self.wildcards and (ch in '\\*?:"()[]{}' or ch in WHITESPACE):
                out.append("\\" + ch)
            else:
                out.append(ch)
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Word:
    """A word read from the query: its pattern, where it started, where it ended."""

    pattern: Pattern
    start: int
    end: int
    escaped: bool  # at least one backslash escape was used


def skip_whitespace(text: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not whitespace."""
    while pos < len(text) and text[pos] in WHITESPACE:
        pos += 1
    return pos


def keyword_at(text: str, pos: int) -> str | None:
    """``"AND"``, ``"OR"`` or ``"NOT"`` when a whole-word operator starts at ``pos``."""
    match = _KEYWORD_RE.match(text, pos)
    return KEYWORDS[match.group(1)] if match else None


def keyword_length(text: str, pos: int) -> int:
    """How many characters the operator at ``pos`` spans (``keyword_at`` must have matched)."""
    match = _KEYWORD_RE.match(text, pos)
    assert match is not None
    return len(match.group(1))


def read_word(text: str, pos: int, stop: frozenset[str]) -> Word:
    """Read a word from ``pos`` up to the first unescaped character in ``stop`` (or the end)."""
    chars: list[str] = []
    wildcards: set[int] = set()
    escaped = False
    start = pos
    while pos < len(text):
        ch = text[pos]
        if ch == "\\":
            if pos + 1 >= len(text):
                raise QuerySyntaxError(
                    "expected a character after '\\'", pos + 1, "a character to escape"
                )
            chars.append(text[pos + 1])
            escaped = True
            pos += 2
            continue
        if ch in stop:
            break
        if ch in "*?":
            wildcards.add(len(chars))
        chars.append(ch)
        pos += 1
    return Word(Pattern("".join(chars), frozenset(wildcards)), start, pos, escaped)


def read_phrase(text: str, pos: int) -> Word:
    """Read the ``"quoted phrase"`` whose opening quote is at ``pos``; no wildcards inside."""
    start = pos
    pos += 1
    chars = []
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            chars.append(text[pos + 1])
            pos += 2
            continue
        if ch == '"':
            return Word(Pattern("".join(chars)), start, pos + 1, escaped=False)
        chars.append(ch)
        pos += 1
    raise QuerySyntaxError("expected '\"' to end the quoted phrase", len(text), "'\"'")
