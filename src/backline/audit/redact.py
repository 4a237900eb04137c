"""Masking of patient identifiers in free text and in log events.

This module owns the rules that decide what a patient identifier looks like inside a log message,
a URL, a JSON payload or any other string, and the stable token that replaces it. It knows nothing
about who may see what (the checkpoints decide that), about Django or about the log store: the
caller passes the key, and the Django-aware wrapper in ``audit.masking`` passes ``SECRET_KEY``.

Recognised anywhere, by their shape alone:

- ICN ``##########V######`` (either case of ``V``);
- UUID, hyphenated or as 32 hex digits, in any case (user UUIDs; see "request ids" below);
- e-mail addresses, also URL-encoded (``jane%40example.com``);
- US phone numbers written as ``(###) ###-####``, ``###-###-####``, ``###.###.####`` or with an
  explicit ``+1``;
- SSN written as ``###-##-####``.

Recognised only after a keyword that names them (``edipi=``, ``"dob": "``, ``SSN: ``,
``MHV correlation id ``...), because their bare shape is shared with harmless values:

- EDIPI (a run of 7-12 digits; EDIPIs are 10, a malformed one is still masked), SSN as 9 plain
  digits, dates of birth (ISO, US ``m/d/yyyy``, ``yyyymmdd``, ``March 14, 1956``), MHV ids and
  correlation ids (5-15 digits), and phone numbers as 10 plain digits.

A keyword may be followed by ``=``, ``:``, ``=>``, ``#``, ``/``, a space, ``is``, quotes (also
JSON-escaped ones) and an opening ``[``; a comma-separated list of values after one keyword is
masked value by value.

Deliberately not masked: request and trace ids (a UUID or 32 hex digits right after ``request_id``,
``trace``, ``span``, ``etag`` ...; a W3C ``traceparent``), bare 8-10 digit numbers (prescription
and order numbers), station numbers, durations, HTTP statuses, timestamps, git SHAs, IP addresses,
version strings, error codes, ports, counts, help-desk numbers and 19-20 digit trace ids. See
``docs/protected-data.md`` for the reasons.

The token is ``[KIND:hhhhhh]``: the kind and the first six hex digits of a keyed BLAKE2b hash of
the identifier in canonical form (ICN upper case, UUID hyphenated, phone as ten digits, e-mail
lower case, dates as ``yyyy-mm-dd``). Equal identifiers give equal tokens whatever their
spelling. The hash is the one ``audit.services.subject_digest`` computes, so for ICNs, hyphenated
UUIDs, EDIPIs and MHV ids the token's hex matches ``mask_identifier`` and the audit subject
digest.

Speed: one precompiled regex, run on strings that hold a digit or an ``@``, and a memo of short
strings already seen. Measured on a 2-core development VM (``test_redact.py::test_throughput_report``
prints it): a 500-row page of 20-field log rows in about 50 ms, i.e. about 10,000 rows/second;
``redact_text`` on a 90-character message takes about 8 microseconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "DOB",
    "EDIPI",
    "EMAIL",
    "ICN",
    "KINDS",
    "MHV",
    "OTHER",
    "PHONE",
    "SSN",
    "UUID",
    "Found",
    "Redactor",
    "canonical",
    "kind_for_key",
]

ICN: Final = "ICN"
UUID: Final = "UUID"
EDIPI: Final = "EDIPI"
SSN: Final = "SSN"
DOB: Final = "DOB"
EMAIL: Final = "EMAIL"
PHONE: Final = "PHONE"
MHV: Final = "MHV"
OTHER: Final = "ID"  # a value in a protected attribute whose kind cannot be told
KINDS: Final[tuple[str, ...]] = (ICN, UUID, EDIPI, SSN, DOB, EMAIL, PHONE, MHV, OTHER)

TOKEN_HEX_DIGITS: Final = 6


@dataclass(frozen=True, slots=True)
class Found:
    """One identifier found in a string: ``value == text[start:end]``."""

    kind: str
    start: int
    end: int
    value: str


# ---- the pattern ------------------------------------------------------------------------------
# Built from pieces so each rule can be read on its own, compiled once. It runs on the text with
# ASCII letters lowered (same length, same offsets), so it needs no IGNORECASE.
#
# Speed: every top-level alternative starts with a plain character or character class and ends
# with an empty marker group naming it. That lets the regex engine reject an alternative with
# one character test (a group or lookbehind first would defeat that), and ``lastgroup`` still
# says which rule matched. The boundary checks that would naturally come first are lookbehinds
# placed after the first character: ``[0-9](?<![0-9][0-9])`` = a digit not preceded by a digit.

# A value may start right after a URL escape (``%2F``, ``%20``) or a JSON escape (``\n``) even
# though the escape ends in a letter or digit. ``{c}`` is the class of the first character.
_AFTER_ESCAPE = r"(?<=%[0-9a-f]{{2}}{c})|(?<=\\[nrt]{c})"

_UUID_REST = (
    # the first hex digit is already consumed
    r"(?:[0-9a-f]{7}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    # or 32 hex digits with at least one letter: a 32-digit decimal number is not a UUID
    r"|[0-9a-f]{31}(?<![0-9]{32}))(?![0-9a-z])"
)
_UUID_ANY = rf"[0-9a-f]{_UUID_REST}"

_QUOTE = r"""(?:\\?["'])"""
# Between a keyword and its value: ``=``, ``:``, ``=>``, ``#``, ``/``, URL-encoded ``=``, or a
# space, optionally a filler word, quotes (also JSON-escaped) and an opening bracket.
_SEP = (
    # Each run of spaces can be read one way only, so a long run costs linear time, not quadratic.
    rf"{_QUOTE}?(?:\s*(?:=>|[:=#/]|%3d)\s*|\s+)"
    r"(?:(?:is|was|no\.?|number|num|of|on)(?=[\s:#])[\s:#]*)?"
    rf"(?:\[\s*)?{_QUOTE}?"
)
# Between two values of one keyword: ``,`` ``;`` `` and `` `` or ``, with their quotes.
_LIST = rf"{_QUOTE}?(?:\s*[,;]|\s+(?:and|or)(?=\s))\s*{_QUOTE}?"

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[t ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:z|[+-][0-9]{2}:?[0-9]{2})?)?"
    r"|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}"
    r"|[0-9]{1,2}[/.-][0-9]{1,2}[/.-](?:[0-9]{4}|[0-9]{2})"
    r"|[0-9]{8}"
    rf"|{_MONTH}[ \t]+[0-9]{{1,2}}(?:st|nd|rd|th)?,?[ \t]+[0-9]{{4}}"
    rf"|[0-9]{{1,2}}(?:st|nd|rd|th)?[ \t]+{_MONTH},?[ \t]+[0-9]{{4}}"
    r")(?![0-9])"
)
# Not followed by a digit, nor by ``V`` and a digit: ``1012345678V123456`` is an ICN, not a phone.
_PHONE_DIGITS = r"(?:\+?1[ .-]?)?\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}(?![0-9]|v[0-9])"

# Keyword -> value rules, on lowered text. Each keyword must be followed by _SEP.
_CONTEXT_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        EDIPI,
        r"(?:dod[_ -]?)?edipis?|edi[_ -]pi|dod[_ -]?id(?:[_ -]?(?:number|no))?",
        r"[0-9]{7,12}(?![0-9a-z])",
    ),
    (
        SSN,
        r"ssns?|social[_ -]?security(?:[_ -]?(?:number|num|no))?",
        r"[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}(?![0-9a-z])",
    ),
    (
        DOB,
        r"dob|d\.o\.b\.?|date[_ -]?of[_ -]?birth|birth(?:[_ -]?date|day)?|born",
        _DATE,
    ),
    (
        MHV,
        r"(?:mhv[_ -]?)?correlation[_ -]?ids?|mhv[_ -]?(?:ids?|iens?)",
        r"[0-9]{5,15}(?![0-9a-z])",
    ),
    (
        PHONE,
        r"(?:(?:home|work|mobile|cell|contact|primary)[_ -]?)?(?:tele)?phone"
        r"(?:[_ -]?(?:number|num|no))?s?|tel|mobile|cell|fax",
        _PHONE_DIGITS,
    ),
)

# Keywords after which a UUID-shaped value is an operational id, not a person.
_SAFE_ID_KEYWORDS = (
    r"(?:x[_ -]?)?(?:request|req|trace|span|parent|transaction|txn|job|message|msg)"
    r"(?:[_ -]?ids?)?|traceparent|etag|md5|sha[0-9]*|checksum|digest|hash|fingerprint"
)


def _build_pattern(*, with_email: bool) -> re.Pattern[str]:
    keyword_rules = [
        # Skipped first: a request id is consumed here so the UUID rule never sees it.
        rf"(?:{_SAFE_ID_KEYWORDS}){_SEP}{_UUID_ANY}(?P<skip_safe_id>)",
        *(
            rf"(?:{keywords}){_SEP}(?P<val_{kind}>{value}(?:{_LIST}{value})*)(?P<ctx_{kind}>)"
            for kind, keywords, value in _CONTEXT_RULES
        ),
    ]
    digit = "[0-9]"
    hex_digit = "[0-9a-f]"
    email_first = "[0-9a-z_+-]"
    alternatives = [
        # Keywords start a word (``payload.edipi`` and ``dod_edipi`` count, ``hotel`` does not).
        # The one alternative led by a lookbehind: inside a word it fails at once.
        rf"(?<![0-9a-z])(?:{'|'.join(keyword_rules)})",
        # W3C traceparent: version-traceid-parentid-flags, an operational id.
        r"[0-9a-f](?<![0-9a-z-][0-9a-f])[0-9a-f]-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"
        r"(?![0-9a-z-])(?P<skip_traceparent>)",
        rf"[0-9](?:(?<![0-9][0-9])|{_AFTER_ESCAPE.format(c=digit)})"
        rf"[0-9]{{9}}v[0-9]{{6}}(?![0-9])(?P<bare_{ICN}>)",
        rf"[0-9a-f](?:(?<![0-9a-z\\][0-9a-f])|{_AFTER_ESCAPE.format(c=hex_digit)})"
        rf"{_UUID_REST}(?P<bare_{UUID}>)",
        rf"[0-9](?<![0-9a-z-][0-9])[0-9]{{2}}-[0-9]{{2}}-[0-9]{{4}}(?![0-9a-z]|-[0-9])"
        rf"(?P<bare_{SSN}>)",
        # Phones: (###) ###-####, ###-###-####, ###.###.####, each with an optional 1 or +1.
        rf"\((?<![0-9]\()[0-9]{{3}}\) ?[0-9]{{3}}[-. ][0-9]{{4}}(?![0-9])(?P<bare_{PHONE}>)",
        r"\+(?<![0-9a-z+]\+)1[ .-]?(?:\([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}"
        r"|[0-9]{3}[ .-]?[0-9]{3}[ .-]?[0-9]{4})(?![0-9])(?P<plus_phone>)",
        r"1(?<![0-9a-z+.-]1)(?:[ .-]?\([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}"
        r"|(?P<one_sep>[-.])[0-9]{3}(?P=one_sep)[0-9]{3}(?P=one_sep)[0-9]{4})"
        r"(?![0-9]|[.-][0-9])(?P<one_phone>)",
        r"[0-9](?<![0-9+.-][0-9])[0-9]{2}(?P<sep>[-.])[0-9]{3}(?P=sep)[0-9]{4}"
        r"(?![0-9]|[.-][0-9])(?P<dash_phone>)",
    ]
    if with_email:
        alternatives.append(
            rf"{email_first}(?:(?<![0-9a-z._%+\\-]{email_first})"
            rf"|{_AFTER_ESCAPE.format(c=email_first)})"
            r"[0-9a-z._%+-]*(?:@|%40)(?:[0-9a-z](?:[0-9a-z-]*[0-9a-z])?\.)+[a-z]{2,24}"
            rf"(?![0-9a-z-])(?P<bare_{EMAIL}>)"
        )
    return re.compile("|".join(alternatives))


_PATTERN: Final = _build_pattern(with_email=False)
_PATTERN_WITH_EMAIL: Final = _build_pattern(with_email=True)
# Marker group -> (kind, whether the span is a keyword followed by values).
_MARKERS: Final[dict[str, tuple[str, bool]]] = {
    **{f"bare_{kind}": (kind, False) for kind in (ICN, UUID, SSN, PHONE, EMAIL)},
    "plus_phone": (PHONE, False),
    "one_phone": (PHONE, False),
    "dash_phone": (PHONE, False),
    **{f"ctx_{kind}": (kind, True) for kind, _keywords, _value in _CONTEXT_RULES},
}
# The single values inside a keyword's value list, per kind.
_VALUE_PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    kind: re.compile(value) for kind, _keywords, value in _CONTEXT_RULES
}
# Cheap pre-check: every identifier holds a digit or an ``@`` (a UUID's version nibble is a
# digit; a 32-hex value with no digit is too unlikely to matter).
_MAY_HOLD_IDENTIFIER: Final = re.compile(r"[0-9@]")
_ASCII_LOWER: Final = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def _lower_ascii(text: str) -> str:
    """``text`` with A-Z lowered and nothing else changed, so offsets stay valid."""
    # str.lower() is much faster but may change the length of non-ASCII text (``İ``).
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


# ---- canonical forms --------------------------------------------------------------------------

_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_US_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})$")
_NAMED_DATE = re.compile(
    rf"(?:({_MONTH})\s+(\d{{1,2}})|(\d{{1,2}})\D*?({_MONTH})),?\s+(\d{{4}})", re.I
)
_NON_DIGIT = re.compile(r"\D")
_NON_HEX = re.compile(r"[^0-9a-f]")


def _iso(year: str | int, month: str | int, day: str | int) -> str:
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def _canonical_date(value: str) -> str:
    text = value.strip()
    if match := _ISO_DATE.match(text):
        return _iso(*match.groups())
    if match := _US_DATE.match(text):
        return _iso(match.group(3), match.group(1), match.group(2))
    if match := _COMPACT_DATE.match(text):
        return _iso(*match.groups())
    if match := _NAMED_DATE.search(text):
        month_name = (match.group(1) or match.group(4)).lower()[:3]
        day = match.group(2) or match.group(3)
        return _iso(match.group(5), _MONTHS[month_name], day)
    return text.upper()  # two-digit years are left as written rather than guessed


def canonical(kind: str, value: str) -> str:
    """The form of ``value`` that is hashed: equal identifiers written differently become equal.

    ICN upper case; UUID hyphenated lower case; e-mail lower case with ``%40`` decoded; phone as
    ten digits (a leading ``1`` dropped); SSN, EDIPI and MHV id as digits; a date of birth as
    ``yyyy-mm-dd`` when it can be read. Anything else: stripped.
    """
    text = value.strip()
    if kind == ICN:
        return text.upper()
    if kind == UUID:
        hex_digits = _NON_HEX.sub("", text.lower())
        if len(hex_digits) == 32:
            h = hex_digits
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        return text.lower()
    if kind == EMAIL:
        return text.replace("%40", "@").lower()
    if kind == PHONE:
        digits = _NON_DIGIT.sub("", text)
        return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    if kind in (SSN, EDIPI, MHV):
        return _NON_DIGIT.sub("", text) or text
    if kind == DOB:
        return _canonical_date(text)
    return text


# ---- attribute names --------------------------------------------------------------------------

# Attribute names (lower case, letters and digits only) -> kind. Matched on the end of the name, so
# ``other_icn``, ``dod_edipi`` and ``usr.email`` count too.
_KEY_SUFFIX_KINDS: Final[tuple[tuple[str, str], ...]] = (
    ("mhvcorrelationid", MHV),
    ("mhvid", MHV),
    ("mhvien", MHV),
    ("dateofbirth", DOB),
    ("birthdate", DOB),
    ("dob", DOB),
    ("useruuid", UUID),
    ("usrid", UUID),
    ("userid", UUID),
    ("icn", ICN),
    ("edipi", EDIPI),
    ("ssn", SSN),
    ("emailaddress", EMAIL),
    ("email", EMAIL),
    ("phonenumber", PHONE),
    ("phone", PHONE),
)
# Attribute names whose UUID-shaped value is an operational id (request stitching needs it).
_SAFE_ID_KEYS: Final[frozenset[str]] = frozenset(
    {
        "requestid",
        "xrequestid",
        "reqid",
        "traceid",
        "spanid",
        "parentid",
        "traceparent",
        "transactionid",
        "jobid",
        "messageid",
        "etag",
    }
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def _squash(key: str) -> str:
    return _NOT_ALNUM.sub("", key.lower())


def kind_for_key(path: str) -> str | None:
    """The identifier kind an attribute path names (``payload.icn`` -> ``ICN``), or None.

    Plurals count (``icns``), so do prefixes (``other_icn``, ``usr.email``).
    """
    squashed = _squash(path)
    for candidate in (squashed, squashed[:-1] if squashed.endswith("s") else ""):
        for suffix, kind in _KEY_SUFFIX_KINDS:
            if candidate and candidate.endswith(suffix):
                return kind
    return None


_FULL_SHAPES: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (ICN, re.compile(r"\d{10}v\d{6}", re.I)),
    (UUID, re.compile(_UUID_ANY, re.I)),
    (EMAIL, re.compile(r"[^@\s]+(?:@|%40)[^@\s]+\.[a-z]{2,}", re.I)),
    (SSN, re.compile(r"\d{3}-\d{2}-\d{4}")),
    (PHONE, re.compile(_PHONE_DIGITS)),
)


def _kind_by_shape(value: str) -> str:
    text = value.strip()
    for kind, shape in _FULL_SHAPES:
        if shape.fullmatch(text):
            return kind
    return OTHER


# ---- the redactor -----------------------------------------------------------------------------


class Redactor:
    """Finds patient identifiers and replaces them with stable tokens keyed by ``key``.

    Thread-safe: the only state is a memo of tokens, and a lost memo write costs one hash.
    """

    _MEMO_LIMIT: Final = 50_000
    _TEXT_MEMO_MAX_LENGTH: Final = 300

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("Redactor needs a non-empty key: an unkeyed hash is reversible.")
        # BLAKE2b takes at most 64 key bytes; cutting (not hashing) the key keeps the digest equal
        # to audit.services.subject_digest, so tokens line up with the audit subject digests.
        self._key = key[:64]
        self._memo: dict[tuple[str, str], str] = {}
        # Log rows repeat most of their short values (hosts, paths, user agents), so a page of
        # rows redacts far fewer distinct strings than it holds.
        self._text_memo: dict[tuple[str, bool], str] = {}

    # -- tokens --

    def digest(self, kind: str, value: str) -> str:
        """The full keyed hash (64 hex digits) of ``value`` read as a ``kind`` identifier."""
        normalised = canonical(kind, value).upper()
        return hashlib.blake2b(normalised.encode(), key=self._key, digest_size=32).hexdigest()

    def token(self, kind: str, value: str) -> str:
        """``[KIND:hhhhhh]`` for one identifier; equal identifiers give equal tokens."""
        memo_key = (kind, value)
        found = self._memo.get(memo_key)
        if found is None:
            found = f"[{kind}:{self.digest(kind, value)[:TOKEN_HEX_DIGITS]}]"
            if len(self._memo) >= self._MEMO_LIMIT:
                self._memo.clear()
            self._memo[memo_key] = found
        return found

    # -- text --

    def find(self, text: str) -> list[Found]:
        """Every identifier in ``text``, in order, for highlighting and auditing."""
        return list(self._iter_found(text, operational_uuids=False))

    def redact_text(self, text: str) -> str:
        """``text`` with every identifier replaced by its token; everything else unchanged."""
        return self._redact(text, operational_uuids=False)

    def _iter_found(self, text: str, *, operational_uuids: bool) -> list[Found]:
        if not _MAY_HOLD_IDENTIFIER.search(text):
            return []
        lowered = _lower_ascii(text)
        pattern = _PATTERN_WITH_EMAIL if ("@" in text or "%40" in lowered) else _PATTERN
        found: list[Found] = []
        for match in pattern.finditer(lowered):
            marker = _MARKERS.get(match.lastgroup or "")
            if marker is None:  # a skipped span: an operational id
                continue
            kind, has_keyword = marker
            if not has_keyword:
                if kind == UUID and operational_uuids:
                    continue
                start, end = match.span()
                found.append(Found(kind, start, end, text[start:end]))
                continue
            # A keyword and one or more values: mask each value, keep the keyword.
            offset = match.start(f"val_{kind}")
            for value in _VALUE_PATTERNS[kind].finditer(match.group(f"val_{kind}")):
                start, end = offset + value.start(), offset + value.end()
                found.append(Found(kind, start, end, text[start:end]))
        return found

    def _redact(self, text: str, *, operational_uuids: bool) -> str:
        if len(text) > self._TEXT_MEMO_MAX_LENGTH:
            return self._redact_uncached(text, operational_uuids=operational_uuids)
        memo_key = (text, operational_uuids)
        redacted = self._text_memo.get(memo_key)
        if redacted is None:
            redacted = self._redact_uncached(text, operational_uuids=operational_uuids)
            if len(self._text_memo) >= self._MEMO_LIMIT:
                self._text_memo.clear()
            self._text_memo[memo_key] = redacted
        return redacted

    def _redact_uncached(self, text: str, *, operational_uuids: bool) -> str:
        found = self._iter_found(text, operational_uuids=operational_uuids)
        if not found:
            return text
        parts: list[str] = []
        position = 0
        for item in found:
            parts.append(text[position : item.start])
            parts.append(self.token(item.kind, item.value))
            position = item.end
        parts.append(text[position:])
        return "".join(parts)

    # -- events --

    def redact_event(
        self, event: Mapping[str, Any], *, protected_paths: Collection[str]
    ) -> dict[str, Any]:
        """A masked deep copy of ``event``; ``event`` itself is not changed.

        - A value at a protected path (dotted, e.g. ``payload.icn``; it also matches under any
          parent, so ``attrs.payload.icn`` counts) is replaced whole by its token, whatever its
          format or type; a list or object there has each of its leaves replaced.
        - So is a value whose attribute name names an identifier (``other_icn``, ``dod_edipi``).
        - Every other string is run through ``redact_text``; a UUID under a request, trace or
          span id attribute is kept, since stitching requests together needs it.
        - Keys, numbers, booleans and None outside those paths are kept as they are.
        """
        protected = frozenset(protected_paths)
        return {
            key: self._redact_value(value, path=str(key), protected=protected, kind=None)
            for key, value in event.items()
        }

    def _redact_value(
        self, value: Any, *, path: str, protected: frozenset[str], kind: str | None
    ) -> Any:
        if kind is None and self._is_protected(path, protected):
            kind = kind_for_key(path) or ""  # "" = protected, kind read from the value
        if kind is None:
            kind = kind_for_key(path.rsplit(".", 1)[-1])
        if isinstance(value, Mapping):
            return {
                key: self._redact_value(item, path=f"{path}.{key}", protected=protected, kind=kind)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [
                self._redact_value(item, path=path, protected=protected, kind=kind)
                for item in value
            ]
        if value is None or isinstance(value, bool):
            return value
        if kind is not None:
            text = str(value)
            if not text.strip():
                return value
            return self.token(kind or _kind_by_shape(text), text)
        if isinstance(value, str):
            last = _squash(path.rsplit(".", 1)[-1])
            return self._redact(value, operational_uuids=last in _SAFE_ID_KEYS)
        return value

    @staticmethod
    def _is_protected(path: str, protected: frozenset[str]) -> bool:
        if path in protected:
            return True
        position = path.find(".")
        while position != -1:
            if path[position + 1 :] in protected:
                return True
            position = path.find(".", position + 1)
        return False
