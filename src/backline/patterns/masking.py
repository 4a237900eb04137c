"""Masking of the variable parts of a log message, before template mining.

This module owns the rules that decide which parts of a message are values (replaced by `<*>`)
and which are the words that name the event. It knows nothing about templates or grouping.

A message is split into blank-separated tokens and each token is masked on its own
(`mask_token`); a few rules then look at neighbouring tokens (`join_masked`). Working token by
token keeps the regular expressions short (they run on a token, never on a whole line) and lets
`Masker` memoise per distinct token, which repeat far more often than lines do.

What is masked inside a token: URLs, e-mail addresses, UUIDs, ICNs (`1012345678V123456`), IPv4
and IPv6 addresses with an optional port, `host.name:port` and `host:port` (port of 2 to 5
digits), dates and times (ISO, numeric), durations and sizes written as one token (`250ms`,
`1.5s`), every value that starts with a digit (numbers, versions, `4096k`, `0x1f`), hexadecimal
ids (a run of 8+ hex characters holding a digit), words that carry 6 or more digits in a row
(`blk_-1727475099218615100`, `req_20240101123456`), a quoted value without blanks (`'dob'`), and
the value of `key=value`. A path keeps its shape: only its value segments are masked
(`/prescriptions/<*>`). A value alone inside brackets, `(1)` or `[42]`, loses its brackets.

What neighbouring tokens do: adjacent masked tokens become one `<*>`, so a value whose width in
tokens varies (`1190 bytes (1.16 KB)`, `Fri Jun 17 07:07:00 2005`, `2024-01-01 12:00:00`) does
not change the number of tokens. A unit after a masked number (`900 seconds`, `(1.16 KB)`) and a
month or weekday name before a masked day (`Jun 17`) join the value.

What is kept on purpose: plain words, and codes made of capital letters and a few digits
(`RX139`, `SM151`, `MVI_503`, `SOCKS5`): an error code names the problem, so two messages that
differ only by their code are two signatures. Lower-case words with a digit (`tty2`, `subdir5`)
are kept too; the miner treats them as values when they vary (see `miner.token_kind`). Quoted
text with blanks is not masked as a whole: a quoted request line (`"GET /v2/servers HTTP/1.1"`)
names its event by its method and path; its values are masked token by token like any others.

Every rule treats all ASCII digits alike (no rule looks at a digit's value, which is why `0x` is
not a rule of its own), so where a message is masked depends only on where its digits are, not
on which digits they are. `Masker` relies on this to memoise masking by token with its digits
zeroed, and the miner to memoise whole lines by `digit_blind_key`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import compress
from operator import itemgetter
from typing import Any

__all__ = [
    "WILDCARD",
    "Masker",
    "digit_blind_key",
    "join_masked",
    "kept_digit_positions",
    "mask",
    "mask_token",
    "split_tokens",
    "token_spans",
]

WILDCARD = "<*>"

_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
# Turns a digit-blind token into flags: 1 where it has a digit (`0`), 0 elsewhere.
_ZERO_FLAGS = bytes(1 if byte == ord("0") else 0 for byte in range(256))

_UNITS = (
    r"(?:[KMGTP]i?B|[kmgtp]b|bytes?|B|ms|us|\u00b5s|ns|secs?|seconds?|mins?|minutes?"
    r"|hours?|hrs?|days?)"
)
_HEX = r"[0-9a-fA-F]"

# One pass finds every digit-bearing value of a token. Branch order matters where two branches
# can start at the same place: the first that matches wins, so the specific shapes come before
# the generic "starts with a digit" rule. The flag marks the branches that cannot match
# without a `:`.
_VALUE_BRANCHES = (
    (False, rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"),  # UUID
    (False, r"\d{10}V\d{6}"),  # ICN
    (False, r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"),
    (False, r"\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?"),  # IPv4[:port]
    (True, rf"(?:{_HEX}{{0,4}}:){{2,7}}{_HEX}{{1,4}}(?=[,;)\]/]|$)"),  # IPv6 (no port)
    (True, r"[A-Za-z0-9][A-Za-z0-9-]*(?:(?:\.[A-Za-z0-9-]+)+:\d{1,5}|:\d{2,5})"),  # host:port
    (True, r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"),  # time
    (False, r"\d{1,4}[/-]\d{1,2}[/-]\d{1,4}"),  # numeric date
    (False, rf"(?:[<>]=?)?[-+]?\d(?:[\w.:%-]*[\w%])?(?:{_UNITS}(?![\w]))?"),  # number, size
    (False, rf"(?=[0-9a-fA-F]{{8,}}(?!\w)){_HEX}*\d{_HEX}*"),  # hex id
    (False, r"[A-Za-z_][\w-]*?\d{6,}[\w-]*"),  # word with a long number inside
)


def _values(*, colon: bool) -> re.Pattern[str]:
    branches = [branch for needs_colon, branch in _VALUE_BRANCHES if colon or not needs_colon]
    return re.compile(r"(?<![\w.])(?<!\w-)(?:" + "|".join(branches) + r")(?![\w])")


_VALUES = _values(colon=True)
# For a token without `:`, the same matches: the branches left out could never match there,
# and the others keep their order. It spares their backtracking over long host names.
_VALUES_NO_COLON = _values(colon=False)
_URL = re.compile(r"(?<![\w])[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_QUOTED = re.compile(r"(?<![\w])(?:'([^'\s]{1,256})'|\"([^\"\s]{1,256})\")(?![\w])")
_KEY_VALUE = re.compile(r"(?<=[\w\])]=)[^\s,;&()\[\]{}\"'<>=]+")
_HAS_DIGIT = re.compile(r"\d")
# Each rule of `token_spans` needs one of these: a digit (most values), `:` (IPv6, URL), `@`
# (e-mail), `=` (key=value) or a quote.
_VALUE_HINT = re.compile(r"[\d:@='\"]")
# Only ASCII digits are zeroed by `digit_blind_key`, so only they can be memoised away.
_ASCII_DIGIT = re.compile(r"[0-9]")

# Short cuts for the shapes of new tokens that logs are full of, so that a token never seen
# before costs one regular expression instead of all the rules. Each one gives exactly what
# the rules give for every token it matches (a property test checks this on tokens generated
# from these patterns): `_WHOLE` is a value between one optional opening bracket or `/` and one
# optional closer; its value is an IPv4 address with an optional port, a `host.name:port`
# whose name starts with a letter (and not with the 8 hex digits and `-` of a UUID), a number
# with at most two dots (three would make it an IPv4 address), or a word, `_` and a
# long number (`blk_-1727475099218615100`). `_SIMPLE_KEY_VALUE` is `key=value` with a key of
# letters only (so no rule can match inside it) and a value of letters, digits, `.`, `_`, `-`.
_WHOLE = re.compile(
    r"([/(\[]?)(?:"
    r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]{1,5})?"
    r"|(?![0-9a-fA-F]{8}-)[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*:[0-9]{2,5}"
    r"|[-+]?[0-9]+(?:\.[0-9]+){0,2}"
    r"|[A-Za-z][A-Za-z_]*_-?[0-9]{6,}"
    r")([:,;.)\]]?)"
)
_SIMPLE_KEY_VALUE = re.compile(r"\(?[A-Za-z_]+=([A-Za-z0-9._-]*)\)?")
# What `Masker` tries first on a token with a `_VALUE_HINT` it has not seen (`_mask_easy`), with
# `_SIMPLE_KEY_VALUE` for tokens with `=`: the shapes that need none of the rules. No group
# matched: a word that no rule can match, because it holds no digit, `@` or `=` and at most
# one `:` (not before `//`) or one quote: every rule needs a digit, `@`, `=`, two quotes, `://`
# or (IPv6) two colons. Groups 1-2: `_WHOLE`. The two shapes exclude each other.
_PLAIN = r"[^\d:@='\"]"
_EASY = re.compile(rf"{_PLAIN}*+(?:(?::(?!//)|['\"]){_PLAIN}*+)?+|{_WHOLE.pattern}")
# A path whose segments can be masked one by one has no digit on both sides of a `/`.
_DIGIT_SLASH_DIGIT = re.compile(r"\d/\d")

# Every word `_UNITS` matches, spelled out: a set look-up is what `join_masked` needs per token.
UNIT_WORDS = frozenset(
    [f"{p}{i}B" for p in "KMGTP" for i in ("", "i")]
    + [f"{p}b" for p in "kmgtp"]
    + ["byte", "bytes", "B", "ms", "us", "\u00b5s", "ns", "sec", "secs", "second", "seconds"]
    + ["min", "mins", "minute", "minutes", "hour", "hours", "hr", "hrs", "day", "days"]
)
_MONTH_PREFIXES = frozenset(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
)
_MONTH = re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?")
_WEEKDAY = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?")
_BRACKETED = frozenset({"(<*>)", "[<*>]", "{<*>}"})
_CLOSERS = ")]},;"
# Every place where a rule of `join_masked` can apply, and some more. `_JOIN_AFTER_VALUE`: `<*>`
# then `<*>` (rule 1 needs both to be exactly `<*>`), or a token ending in `<*>` then a unit
# with closers after it (rule 2). `_JOIN_MONTH`: a month name then a token starting with `<*>`
# (rule 3). A text in which neither finds anything comes out of `join_masked` as it went in.
# Two patterns, because each then starts with something the regular expression engine can
# scan for quickly; as one alternation they cost as much as `join_masked` itself.
_JOIN_AFTER_VALUE = re.compile(rf"<\*> (?:<\*>|{_UNITS}[)\]}},;]*)(?: |$)")
_JOIN_MONTH = re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? <\*>")

Span = tuple[int, int]


def digit_blind_key(message: str) -> bytes:
    """Return `message` as UTF-8 with every ASCII digit turned into `0`.

    Two messages with the same key are masked at the same places (see the module docstring).
    """
    return message.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)


def _add_free(accepted: list[Span], candidates: list[Span]) -> list[Span]:
    """Add each candidate that overlaps no span already accepted; keep the list sorted."""
    if not accepted:
        return sorted(candidates)
    merged = sorted(accepted)
    for start, end in candidates:
        if all(end <= s or start >= e for s, e in merged):
            merged.append((start, end))
    merged.sort()
    return merged


def token_spans(token: str, segments: dict[str, tuple[Span, ...]] | None = None) -> list[Span]:
    """Return the sorted, disjoint `(start, end)` spans of one token that become `<*>`.

    `segments`, if given, is a memo of path segments' spans that this call may use and fill
    (see `_path_spans`); it never changes the answer.
    """
    spans: list[Span] = []
    if token.isdecimal():
        return [(0, len(token))]
    whole = _WHOLE.fullmatch(token)
    if whole is not None:
        return [(whole.end(1), whole.start(2))]
    if "=" in token:
        pair = _SIMPLE_KEY_VALUE.fullmatch(token)
        if pair is not None:
            return [pair.span(1)] if pair.end(1) > pair.start(1) else []
    elif "/" in token and _is_plain_path(token):
        return _path_spans(token, segments)
    if "://" in token:
        spans = _add_free(spans, [m.span() for m in _URL.finditer(token)])
    if "@" in token:
        spans = _add_free(spans, [m.span() for m in _EMAIL.finditer(token)])
    if "'" in token or '"' in token:
        quoted = []
        for m in _QUOTED.finditer(token):
            quoted.append(m.span(1 if m.group(1) is not None else 2))
        spans = _add_free(spans, quoted)
    if "=" in token:
        spans = _add_free(spans, [m.span() for m in _KEY_VALUE.finditer(token)])
    # Every match of _VALUES holds a digit, except an IPv6 address, which holds two colons. A
    # match that overlaps a span already taken is dropped, so only the text outside the spans
    # can produce one (`rhost=adsl-70-1.example.net` is done once its value is masked).
    rest = _outside(token, spans) if spans else token
    if _HAS_DIGIT.search(rest) is not None or rest.count(":") >= 2:
        values = _VALUES if ":" in token else _VALUES_NO_COLON
        spans = _add_free(spans, [m.span() for m in values.finditer(token)])
    return spans


def _mask_easy(token: str) -> str | None:
    """Return the masked text of a token of an `_EASY` or `_SIMPLE_KEY_VALUE` shape, else None.

    None of those shapes keeps a digit, and each masks the same whatever its digits are, so
    the digit-blind token gives the same answer as the token.
    """
    if "=" in token:
        pair = _SIMPLE_KEY_VALUE.fullmatch(token)
        if pair is None:
            return None
        start, end = pair.span(1)
        return token[:start] + WILDCARD + token[end:] if end > start else token
    easy = _EASY.fullmatch(token)
    if easy is None:
        return None
    if easy.lastindex is None:
        return token  # a word no rule can match
    masked = token[: easy.end(1)] + WILDCARD + token[easy.start(2) :]  # a whole value
    return WILDCARD if masked in _BRACKETED else masked


def _is_plain_path(token: str) -> bool:
    """Whether `_path_spans` may mask `token` (given it holds no `=`): see there."""
    if ":" in token or "@" in token or "'" in token or '"' in token:
        return False
    if token.isascii():
        # str methods and bytes.translate run in C; a regular expression would try every place.
        return b"0/0" not in token.encode().translate(_DIGITS_TO_ZERO)
    return _DIGIT_SLASH_DIGIT.search(token) is None


def _path_spans(token: str, memo: dict[str, tuple[Span, ...]] | None) -> list[Span]:
    """`token_spans` of a token with `/` that `_is_plain_path` accepts, segment by segment.

    Without `=`, `:`, `@` or quotes only `_VALUES` can match, and its only match that can hold
    a `/` is a numeric date with a digit on both sides of it, which `_is_plain_path` rules out.
    A `/` is neither a word character, `.` nor `-`, so the look-arounds at a segment's edges
    decide as they do at the start and end of a token; each segment gives the same matches on
    its own as inside the path. Segments repeat (`/mnt/hadoop/dfs/data/current/subdir5/...`),
    so `memo` (if given) keeps each one's spans by its digit-blind form, which decides them.
    """
    spans: list[Span] = []
    offset = 0
    blind = token.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)
    for segment in blind.decode("utf-8", "surrogatepass").split("/"):
        if "0" in segment or (not segment.isascii() and _HAS_DIGIT.search(segment)):
            found = memo.get(segment) if memo is not None else None
            if found is None:
                found = _segment_spans(segment)
                if memo is not None:
                    if len(memo) >= _LIMIT:
                        memo.clear()
                    memo[segment] = found
            spans.extend((offset + start, offset + end) for start, end in found)
        offset += len(segment) + 1
    return spans


def _segment_spans(segment: str) -> tuple[Span, ...]:
    whole = _WHOLE.fullmatch(segment)
    if whole is not None:
        return ((whole.end(1), whole.start(2)),)
    return tuple(match.span() for match in _VALUES_NO_COLON.finditer(segment))


def _outside(token: str, spans: list[Span]) -> str:
    """Return the characters of `token` outside `spans`, with a blank between the gaps."""
    gaps = [0] + [edge for span in spans for edge in span] + [len(token)]
    return " ".join(token[gaps[i] : gaps[i + 1]] for i in range(0, len(gaps), 2))


def _apply(token: str, spans: list[Span]) -> str:
    if not spans:
        return token
    parts = []
    pos = 0
    for start, end in spans:
        parts.append(token[pos:start])
        parts.append(WILDCARD)
        pos = end
    parts.append(token[pos:])
    masked = "".join(parts)
    return WILDCARD if masked in _BRACKETED else masked


def mask_token(token: str) -> str:
    """Return one blank-free token with its values replaced by `<*>`."""
    if token.isalpha():
        return token
    if token.isdecimal():
        return WILDCARD
    return _apply(token, token_spans(token))


def join_masked(tokens: list[str]) -> str:
    """Apply the rules between neighbouring masked tokens and join them with single spaces."""
    out: list[str] = []
    for token in tokens:
        if out:
            prev = out[-1]
            if prev.endswith(WILDCARD):
                if token == WILDCARD and prev == WILDCARD:
                    continue
                core = token.rstrip(_CLOSERS)
                if core in UNIT_WORDS:
                    # `900 seconds`, `(1.16 KB)`: the unit is part of the value.
                    merged = prev + token[len(core) :]
                    out[-1] = WILDCARD if merged in _BRACKETED else merged
                    if len(out) > 1 and out[-1] == WILDCARD == out[-2]:
                        out.pop()
                    continue
            if (
                token.startswith(WILDCARD)
                and prev[:3] in _MONTH_PREFIXES
                and _MONTH.fullmatch(prev)
            ):
                # `Jun 17 07:07:00 2005` is one date, `Fri Jun 17 ...` too.
                out[-1] = token
                if len(out) > 1 and _WEEKDAY.fullmatch(out[-2]):
                    del out[-2]
                if len(out) > 1 and out[-2] == WILDCARD and out[-1].startswith(WILDCARD):
                    del out[-2]
                continue
        out.append(token)
    return " ".join(out)


def split_tokens(message: str) -> list[str]:
    """Split `message` at runs of ASCII blanks (space, tab, CR, LF, VT, FF).

    Only ASCII blanks separate tokens, so that the tokens of a message and of its digit-blind
    bytes (`digit_blind_key`) line up one for one.
    """
    return [
        token.decode("utf-8", "surrogatepass")
        for token in message.encode("utf-8", "surrogatepass").split()
    ]


def mask(message: str) -> str:
    """Return `message` with its variable parts replaced by `<*>`, blanks normalised.

    This is the reference definition; `Masker.mask` gives the same answers, faster.
    """
    return join_masked([mask_token(token) for token in split_tokens(message)])


_TOKENS = re.compile(r"[^ \t\n\r\x0b\x0c]+")


def kept_digit_positions(message: str) -> list[int]:
    """Return the indices of the digits of `message` that its masked text keeps (`RX139`).

    Masking only replaces spans inside tokens and then drops or merges digit-free words and
    `<*>`, so the digits it keeps are the ones outside every token's spans.
    """
    kept: list[int] = []
    for match in _TOKENS.finditer(message):
        token = match.group()
        if token.isalpha():
            continue
        spans = token_spans(token)
        if _apply(token, spans) == WILDCARD:
            continue
        gaps = [0] + [edge for span in spans for edge in span] + [len(token)]
        for start, end in zip(gaps[::2], gaps[1::2], strict=True):
            for i in range(start, end):
                if "0" <= token[i] <= "9":
                    kept.append(match.start() + i)
    return kept


_LIMIT = 65536


def _starts(key: bytes) -> Iterator[int]:
    """Yield where each blank-separated token of `key` starts."""
    position = 0
    for token in key.split():
        position = key.find(token, position)
        yield position
        position += len(token)


# A token whose masked text keeps digits: its spans, and where in it the kept digits are.
_Kept = tuple[list[Span], tuple[int, ...]]


class Masker:
    """`mask` with memos: per digit-blind token and per sequence of masked tokens.

    A message is split into its digit-blind tokens (`digit_blind_key(message).split()`), which
    repeat far more often than lines do; each one's masked form is stored once for all tokens
    with that key, unless it keeps digits (`RX139`): then its spans and where its kept digits
    are go to a second memo and are applied to the token at hand. The masked tokens joined by
    spaces are then looked up in a third memo that holds the result of `join_masked`. The
    memos are bounded (each is cleared when it reaches `limit` entries) and hold nothing but
    results of pure functions, so they are never part of any saved state.

    The template miner memoises whole lines itself (by digit-blind key) and calls the two
    steps separately: `joined_tokens`, then `join`; `kept_plan` tells it how the digits a
    masked text keeps can be read off a line.
    """

    __slots__ = ("_blind_tokens", "_joined", "_kept_tokens", "_segments", "limit")

    def __init__(self, *, limit: int = _LIMIT) -> None:
        self.limit = limit
        # digit-blind token -> its masked text, when that holds no digit.
        self._blind_tokens: dict[bytes, str] = {}
        # digit-blind token -> its spans and the offsets of its kept digits, when its masked
        # text keeps digits. Apart from `_blind_tokens`, so that a line made only of tokens of
        # the first kind is one `None in` test and one join.
        self._kept_tokens: dict[bytes, _Kept] = {}
        # masked tokens joined by spaces -> the same after `join_masked`.
        self._joined: dict[str, str] = {}
        # digit-blind path segment -> its spans (see `_path_spans`).
        self._segments: dict[str, tuple[Span, ...]] = {}

    def mask(self, message: str) -> str:
        """Return `mask(message)`."""
        return self.join(self.joined_tokens(message, digit_blind_key(message))[0])

    def joined_tokens(self, message: str, key: bytes) -> tuple[str, bool]:
        """Return the masked tokens of `message` joined by single spaces, before `join_masked`.

        `key` must be `digit_blind_key(message)`. The flag says whether a token kept an ASCII
        digit (then so does the masked text, and it depends on those digits' values).
        """
        blind = key.split()
        words = self._blind_tokens
        masked: list[str | None] = list(map(words.get, blind))
        if all(masked):  # masked tokens are never empty: only a None is false
            return " ".join(masked), False  # type: ignore[arg-type]
        raw: list[bytes] | None = None  # the line's own tokens, split only if needed
        kept = False
        kept_tokens = self._kept_tokens
        hint = _VALUE_HINT.search
        missing = masked.count(None)
        if len(words) + missing >= self.limit:
            words.clear()
        i = -1
        for _ in range(missing):
            i = masked.index(None, i + 1)  # the next token not in `words`, found in C
            piece = blind[i]
            if piece.isalpha():  # ASCII letters only (bytes): a word
                words[piece] = masked[i] = piece.decode()
                continue
            known = kept_tokens.get(piece)
            if known is None:
                # A word without `_VALUE_HINT`'s characters, or an `_EASY` shape: either way
                # the digit-blind token masks as the token itself does (see `_mask_easy`).
                token = piece.decode("utf-8", "surrogatepass")
                easy = token if hint(token) is None else _mask_easy(token)
                if easy is not None:
                    words[piece] = masked[i] = easy
                    continue
            if raw is None:
                raw = message.encode("utf-8", "surrogatepass").split()
            token = raw[i].decode("utf-8", "surrogatepass")
            if known is None:
                learned = self._learn_token(token, piece)
                if isinstance(learned, str):
                    masked[i] = learned
                    continue
                known = learned
            masked[i] = _apply(token, known[0])
            kept = True
        return " ".join(masked), kept  # type: ignore[arg-type]

    def join(self, joined: str) -> str:
        """Return `join_masked(joined.split(" "))`, memoised."""
        text = self._joined.get(joined)
        if text is None:
            # Where no rule can apply, `join_masked` only re-joins (see `_JOIN_AFTER_VALUE`).
            if _JOIN_AFTER_VALUE.search(joined) or _JOIN_MONTH.search(joined):
                text = join_masked(joined.split(" "))
            else:
                text = joined
            if len(self._joined) >= self.limit:
                self._joined.clear()
            self._joined[joined] = text
        return text

    def kept_plan(self, message: str, key: bytes, text: str) -> tuple[Any, str] | None:
        """Return how the masked text of lines with digit-blind `key` depends on their digits.

        `text` is `mask(message)`. The answer is `(digits, pattern)`: `digits(line)` (an
        `itemgetter`) picks the digits the masked text keeps, and `pattern.format(*digits(line))`
        is the masked text. Masking only removes characters and whole digit-free words, so the
        ASCII digits of a masked text are the kept ones, in order. None if it keeps none.
        """
        positions = self._kept_positions(message, key)
        pattern = _ASCII_DIGIT.sub("{}", text.replace("{", "{{").replace("}", "}}"))
        if not positions or pattern.count("{}") != len(positions):
            return None
        return itemgetter(*positions), pattern

    def _kept_positions(self, message: str, key: bytes) -> list[int]:
        """`kept_digit_positions(message)`, with the offsets of the token memo."""
        kept: list[int] = []
        words = self._blind_tokens
        if len(key) != len(message):
            starts: Iterable[int] = (match.start() for match in _TOKENS.finditer(message))
        else:
            # ASCII: a token starts at the same offset in the line and in its key, and
            # `bytes.find` gets there without a regular expression trying every place.
            starts = _starts(key)
        for offset, blind in zip(starts, key.split(), strict=True):
            if blind in words:
                continue  # masked without digits: none kept
            known = self._kept_tokens.get(blind)
            if known is None:
                return kept_digit_positions(message)
            kept.extend([offset + i for i in known[1]])
        return kept

    def _store(self, blind: bytes, masked: str) -> None:
        if len(self._blind_tokens) >= self.limit:
            self._blind_tokens.clear()
        self._blind_tokens[blind] = masked

    def _learn_token(self, token: str, blind: bytes) -> str | _Kept:
        spans = [] if token.isalpha() else token_spans(token, self._segments)
        masked = _apply(token, spans)
        # Spans depend only on where the digits are; a masked text without digits is the same
        # for every token with this key.
        if _ASCII_DIGIT.search(masked) is None:
            self._store(blind, masked)
            return masked
        if len(blind) == len(token):
            # ASCII: the digits are the `0` bytes of the digit-blind token, found in C.
            digits = bytearray(blind.translate(_ZERO_FLAGS))
            for start, end in spans:
                digits[start:end] = bytes(end - start)
            offsets = tuple(compress(range(len(token)), digits))
        else:
            gaps = [0] + [edge for span in spans for edge in span] + [len(token)]
            offsets = tuple(
                digit.start()
                for start, end in zip(gaps[::2], gaps[1::2], strict=True)
                for digit in _ASCII_DIGIT.finditer(token, start, end)
            )
        if len(self._kept_tokens) >= self.limit:
            self._kept_tokens.clear()
        known = self._kept_tokens[blind] = (spans, offsets)
        return known
