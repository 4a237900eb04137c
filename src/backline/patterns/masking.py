"""Masking of the variable parts of a log message, before template mining.

This module owns the rules that decide which parts of a message are values (replaced by `<*>`)
and which are the words that name the event. It knows nothing about templates or grouping.

What is masked: URLs, e-mail addresses, UUIDs, ICNs (`1012345678V123456`), IPv4 and IPv6
addresses with an optional port, `host.name:port`, dates and times (ISO, numeric, `Jun 17 ...`
with the day number), durations and sizes (`250ms`, `1.5s`, `900 seconds`, `1190 bytes`),
every token that starts with a digit (numbers, versions, `4096k`), hexadecimal ids (`0x1f`, a run
of 8+ hex characters holding a digit), words that carry 6 or more digits in a row
(`blk_-1727475099218615100`, `req_20240101123456`), the text inside quotes, and the value of
`key=value`. A path keeps its shape: only its numeric segments are masked (`/prescriptions/<*>`).

What is kept on purpose: plain words, and codes made of capital letters and a few digits
(`RX139`, `SM151`, `MVI_503`, `SOCKS5`): an error code names the problem, so two messages that
differ only by their code are two signatures. Lower-case words with a digit (`tty2`, `subdir5`)
are kept too; the miner treats them as values when they vary (see `miner.token_kind`).

Adjacent masked values are merged into one `<*>` (`1190 bytes (1.16 KB)` and `Fri Jun 17
07:07:00 2005` each become a single `<*>`), so a value whose width varies does not change the
number of tokens. A masked value alone inside brackets, `(1.16 KB)` or `[1]`, loses its brackets.

Every rule treats all ASCII digits alike (no rule looks at a digit's value), so the masking of a
message depends only on where its digits are, not on which digits they are. The miner relies on
this to memoise masking by the message with its digits zeroed; `digit_blind_key` gives that key.
"""

from __future__ import annotations

import re

__all__ = ["WILDCARD", "digit_blind_key", "mask", "mask_plan"]

WILDCARD = "<*>"

_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")

_UNITS = (
    r"(?:[KMGTP]i?B|[kmgtp]b|bytes?|B|ms|us|\u00b5s|ns|secs?|seconds?|mins?|minutes?"
    r"|hours?|hrs?|days?)"
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?"
_HEX = r"[0-9a-fA-F]"

# One pass finds every digit-bearing value. Branch order matters where two branches can start
# at the same place: the first that matches wins, so the specific shapes come before the
# generic "starts with a digit" rule.
_DIGIT_VALUES = re.compile(
    r"(?<![\w.])(?<!\w-)(?:"
    rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"  # UUID
    r"|\d{10}V\d{6}"  # ICN
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    rf"|(?:{_WEEKDAY}\s+)?{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?"
    r"|\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?"  # IPv4[:port]
    rf"|(?:{_HEX}{{0,4}}:){{2,7}}{_HEX}{{1,4}}(?=[\s,;)\]/]|$)"  # IPv6 (no port)
    r"|[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+:\d{1,5}"  # host.name:port
    r"|\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"  # time
    r"|\d{1,4}[/-]\d{1,2}[/-]\d{1,4}"  # numeric date
    rf"|0[xX]{_HEX}+"
    rf"|(?:[<>]=?)?[-+]?\d(?:[\w.:%-]*[\w%])?(?:\s?{_UNITS}(?![\w]))?"  # number, size, duration
    rf"|(?=[0-9a-fA-F]{{8,}}(?!\w)){_HEX}*\d{_HEX}*"  # hex id
    r"|[A-Za-z_][\w-]*?\d{6,}[\w-]*"  # word with a long number inside
    r")(?![\w])"
)
_URL = re.compile(r"(?<![\w])[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_QUOTED = re.compile(r"(?<![\w])(?:'([^'\n]{1,256})'|\"([^\"\n]{1,256})\")(?![\w])")
_KEY_VALUE = re.compile(r"(?<=[\w\])]=)[^\s,;&()\[\]{}\"'<>=]+")
_GAP_ONLY_SPACE = re.compile(r"\s+")

_OPENERS = {"(": ")", "[": "]", "{": "}"}

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


def mask_plan(message: str) -> list[Span]:
    """Return the sorted, disjoint `(start, end)` spans of `message` that become `<*>`.

    Adjacent values separated by blanks only are already merged, and a value alone inside a
    pair of brackets covers the brackets too.
    """
    spans: list[Span] = []
    if "://" in message:
        spans = _add_free(spans, [m.span() for m in _URL.finditer(message)])
    if "@" in message:
        spans = _add_free(spans, [m.span() for m in _EMAIL.finditer(message)])
    if "'" in message or '"' in message:
        quoted = []
        for m in _QUOTED.finditer(message):
            group = 1 if m.group(1) is not None else 2
            quoted.append(m.span(group))
        spans = _add_free(spans, quoted)
    if "=" in message:
        spans = _add_free(spans, [m.span() for m in _KEY_VALUE.finditer(message)])
    spans = _add_free(spans, [m.span() for m in _DIGIT_VALUES.finditer(message)])
    if not spans:
        return spans
    return _merge_adjacent(message, _absorb_brackets(message, spans))


def _absorb_brackets(message: str, spans: list[Span]) -> list[Span]:
    """Widen `(value)` and `[value]` to cover the brackets when they stand as a whole token."""
    out: list[Span] = []
    size = len(message)
    for start, end in spans:
        if start >= 1 and end < size:
            closer = _OPENERS.get(message[start - 1])
            if (
                closer is not None
                and message[end] == closer
                and (start == 1 or message[start - 2].isspace())
                and (end + 1 == size or message[end + 1].isspace())
            ):
                start, end = start - 1, end + 1
        out.append((start, end))
    return out


def _merge_adjacent(message: str, spans: list[Span]) -> list[Span]:
    """Merge spans that only whitespace separates."""
    out = [spans[0]]
    for start, end in spans[1:]:
        prev_start, prev_end = out[-1]
        if _GAP_ONLY_SPACE.fullmatch(message, prev_end, start):
            out[-1] = (prev_start, end)
        else:
            out.append((start, end))
    return out


def apply_plan(message: str, spans: list[Span]) -> str:
    """Replace `spans` of `message` with `<*>` and normalise blanks to single spaces."""
    if not spans:
        return " ".join(message.split())
    parts = []
    pos = 0
    for start, end in spans:
        parts.append(message[pos:start])
        parts.append(WILDCARD)
        pos = end
    parts.append(message[pos:])
    return " ".join("".join(parts).split())


def mask(message: str) -> str:
    """Return `message` with its variable parts replaced by `<*>`, blanks normalised."""
    return apply_plan(message, mask_plan(message))
