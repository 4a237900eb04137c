"""Deterministic corpora for the redactor's tests: strings with planted identifiers, and look-alikes.

``identifier_corpus(seed, size)`` builds strings from pieces and records where each identifier
was planted, what kind it is and which person-level identity it renders (``identity`` is the
generator's own canonical value, computed without the redactor), so a test can check the exact
spans, that the rest of the string is intact, and that tokens follow identities.

``lookalike_corpus(seed, size)`` builds strings made only of values that resemble identifiers
and must come out unchanged.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

# ---- samples with identifiers -----------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    """One identifier written into a sample: ``text[start:end]`` is its rendering."""

    kind: str
    identity: str
    start: int
    end: int


@dataclass(frozen=True)
class Sample:
    text: str
    planted: tuple[Planted, ...]


class _Builder:
    """Concatenates literal pieces and identifiers, remembering the identifiers' offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.planted: list[Planted] = []

    def text(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)

    def identifier(self, kind: str, identity: str, rendered: str) -> None:
        self.planted.append(Planted(kind, identity, self.length, self.length + len(rendered)))
        self.text(rendered)

    def build(self) -> Sample:
        return Sample("".join(self.parts), tuple(self.planted))


def _digits(rng: random.Random, count: int, *, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(count - 1))


class _People:
    """Small pools of identities, so the same person recurs across samples in many spellings."""

    def __init__(self, rng: random.Random, size: int = 15) -> None:
        self.icns = [f"{_digits(rng, 10)}V{_digits(rng, 6)}" for _ in range(size)]
        self.uuids = [
            "".join(rng.choice("0123456789abcdef") for _ in range(32)) for _ in range(size)
        ]
        for index, value in enumerate(self.uuids):  # a real UUID has a version digit
            self.uuids[index] = value[:12] + "4" + value[13:]
        first_names = ["jane", "john", "maria", "wei", "aisha", "omar", "li", "sam", "ana", "joe"]
        last_names = ["doe", "smith", "garcia", "chen", "khan", "nguyen", "o-neil", "park"]
        domains = ["example.com", "mail.example.org", "va-example.net", "example.co.uk"]
        self.emails = [
            f"{rng.choice(first_names)}{rng.choice(['.', '_', '+', ''])}"
            f"{rng.choice(last_names)}{rng.randrange(1, 100)}@{rng.choice(domains)}"
            for _ in range(size)
        ]
        self.phones = [
            f"{_digits(rng, 3, first='23456789')}{_digits(rng, 3, first='23456789')}"
            f"{_digits(rng, 4, first=string.digits)}"
            for _ in range(size)
        ]
        self.ssns = [
            f"{_digits(rng, 3, first='1234567')}{_digits(rng, 2)}{_digits(rng, 4)}"
            for _ in range(size)
        ]
        self.edipis = [_digits(rng, 10) for _ in range(size)]
        self.mhv_ids = [_digits(rng, 8) for _ in range(size)]
        self.dobs = [
            (rng.randrange(1930, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
            for _ in range(size)
        ]


_MONTH_NAMES = [
    *("January", "February", "March", "April", "May", "June", "July", "August"),
    *("September", "October", "November", "December"),
]


def _render_icn(rng: random.Random, icn: str) -> str:
    return icn if rng.random() < 0.6 else icn.replace("V", "v")


def _render_uuid(rng: random.Random, value: str) -> str:
    hyphenated = f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    rendered = hyphenated if rng.random() < 0.6 else value
    return rendered.upper() if rng.random() < 0.3 else rendered


def _render_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    choice = rng.randrange(4)
    if choice == 1:
        return f"{local.capitalize()}@{domain.upper()}"
    if choice == 2:
        return email.upper()
    return email


def _render_phone(rng: random.Random, phone: str) -> str:
    a, b, c = phone[:3], phone[3:6], phone[6:]
    return rng.choice(
        [
            f"({a}) {b}-{c}",
            f"({a}){b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"+1 {a} {b} {c}",
            f"+1-{a}-{b}-{c}",
            f"+1{a}{b}{c}",
            f"+1 ({a}) {b}-{c}",
            f"1-{a}-{b}-{c}",
            f"+1.{a}.{b}.{c}",
        ]
    )


def _render_dob(rng: random.Random, dob: tuple[int, int, int]) -> str:
    year, month, day = dob
    name = _MONTH_NAMES[month - 1]
    return rng.choice(
        [
            f"{year:04d}-{month:02d}-{day:02d}",
            f"{month:02d}/{day:02d}/{year:04d}",
            f"{month}/{day}/{year}",
            f"{year:04d}{month:02d}{day:02d}",
            f"{name} {day}, {year}",
            f"{name[:3]} {day} {year}",
            f"{day} {name} {year}",
            f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z",
        ]
    )


# Context templates: ``{}`` is where the identifier goes. Each kind that needs a keyword gets
# only templates with a keyword; self-identifying kinds also get neutral surroundings.
_NEUTRAL = [
    "{}",
    "({})",
    "[{}]",
    "<{}>",
    "'{}',",
    '"{}"',
    "{}.",
    "{}:",
    "id={}",
    "/users/{}/profile",
    "https://portal.example/my_health/v1/user?subject={}&page=2",
    '{{"subject":"{}","n":3}}',
    "subject: {};",
]
_CONTEXTS: dict[str, list[str]] = {
    "ICN": [
        *_NEUTRAL,
        "ICN {}",
        "icn={}",
        '"icn":"{}"',
        r"{{\"icn\":\"{}\"}}",
        "/mpi/profile/{}?x=1",
        "ICN{}",
        "%2F{}%2F",
        "%20{}",
        "{}^NI^200M^USVHA",
        "for ICN {}: service unavailable",
    ],
    "UUID": [
        *_NEUTRAL,
        "user_uuid={}",
        '"user_uuid": "{}"',
        "usr.id:{}",
        "user {} signed in",
        "uuid => '{}'",
        "%2F{}",
    ],
    "EMAIL": [
        *_NEUTRAL,
        "email={}",
        '"email":"{}"',
        "mailto:{}",
        "account locked for {}",
        "To: Jane <{}>",
    ],
    "PHONE": [
        "{}",
        "call {} today",
        "phone={}",
        '"phone": "{}"',
        "tel:{}",
        "({}),",
        "home phone: {}.",
    ],
    "SSN": ["SSN {}", "ssn={}", '"ssn":"{}"', "social security number: {}", "SSN#{}"],
    "SSN_DASHED": [*_NEUTRAL[:9], "SSN: {}", "ssn={}"],
    "EDIPI": [
        "edipi={}",
        "EDIPI: {}",
        '"edipi":"{}"',
        '"edipi": {}',
        "dod_edipi={}",
        "EDIPI {}",
        "'edipi' => '{}'",
        r"\"edipi\":\"{}\"",
        "payload.edipi:{}",
        "edipi%3D{}",
        "EDIPI #{}",
        "edipi is {}",
        "dodEdipi={}",
    ],
    "DOB": [
        "dob={}",
        "DOB: {}",
        '"birth_date":"{}"',
        "birthDate={}",
        "date of birth: {}",
        "born on {}",
        "born {}",
        "D.O.B. {}",
        '"dateOfBirth": "{}"',
        "birthday {}",
    ],
    "MHV": [
        "mhv_id={}",
        '"mhv_correlation_id":"{}"',
        "MHV correlation id {}",
        "mhvId: {}",
        "correlation id {}",
        "mhvCorrelationId={}",
        "MHV ID {}",
        "mhv_ien {}",
    ],
}

# Filler that names events and carries harmless numbers; none of it ends in a keyword.
_FILLER = [
    "GET /my_health/v1/prescriptions 200 in 523ms",
    "RX139 prescription is not refillable",
    "upstream vista station 648 returned 503",
    "retry 2 of 5 after 1.5s",
    "SM151 User is blocked from facility 668",
    "at 2026-11-28T14:03:22.123Z",
    "ref 4bf92f3577b34da6a3ce929d0e0e4736a1b2c3d4",
    "help desk HRC-HD-Y4-0000447389",
    "remote_ip 10.12.130.7",
    "trace 12345678901234567890",
    "rx 12345678 refill requested",
    "Chrome 131.0.6778.86 on Windows 11",
    "MVI_503 identity service unavailable",
    "count=17",
    "Login failed, code 108:",
    "user",
    "patient",
    "payload",
    "note",
]
_JOINERS = [" ", ", ", "; ", " | ", " -- ", "\t", "\n"]


def _plant(rng: random.Random, builder: _Builder, people: _People) -> None:
    """Write one identifier of a random kind in a random context."""
    kind = rng.choice(["ICN", "UUID", "EMAIL", "PHONE", "SSN", "SSN_DASHED", "EDIPI", "DOB", "MHV"])
    if kind == "ICN":
        identity = rng.choice(people.icns)
        rendered = _render_icn(rng, identity)
    elif kind == "UUID":
        identity = rng.choice(people.uuids)
        rendered = _render_uuid(rng, identity)
    elif kind == "EMAIL":
        identity = rng.choice(people.emails)
        rendered = _render_email(rng, identity)
    elif kind == "PHONE":
        identity = rng.choice(people.phones)
        rendered = _render_phone(rng, identity)
    elif kind == "SSN":
        identity = rng.choice(people.ssns)
        sep = rng.choice(["", " ", "-"])
        rendered = f"{identity[:3]}{sep}{identity[3:5]}{sep}{identity[5:]}"
    elif kind == "SSN_DASHED":
        identity = rng.choice(people.ssns)
        rendered = f"{identity[:3]}-{identity[3:5]}-{identity[5:]}"
    elif kind == "EDIPI":
        identity = rng.choice(people.edipis)
        rendered = identity
    elif kind == "DOB":
        year, month, day = rng.choice(people.dobs)
        identity = f"{year:04d}-{month:02d}-{day:02d}"
        rendered = _render_dob(rng, (year, month, day))
    else:
        identity = rng.choice(people.mhv_ids)
        rendered = identity
    before, after = rng.choice(_CONTEXTS[kind]).split("{}")
    before, after = before.replace("{{", "{"), after.replace("}}", "}")
    builder.text(before)
    builder.identifier("SSN" if kind == "SSN_DASHED" else kind, identity, rendered)
    builder.text(after)


def identifier_corpus(seed: int, size: int) -> list[Sample]:
    """``size`` strings, each with 1-4 identifiers at the start, middle or end, mixed kinds."""
    rng = random.Random(seed)
    people = _People(rng)
    samples: list[Sample] = []
    for _ in range(size):
        builder = _Builder()
        as_json = rng.random() < 0.15
        if as_json:
            builder.text('{"message":"')
        if rng.random() < 0.5:
            builder.text(rng.choice(_FILLER) + rng.choice(_JOINERS))
        for index in range(rng.randrange(1, 5)):
            if index:
                joiner = rng.choice(_JOINERS)
                if rng.random() < 0.5:
                    joiner = f"{joiner}{rng.choice(_FILLER)}{rng.choice(_JOINERS)}"
                builder.text(joiner)
            _plant(rng, builder, people)
        if rng.random() < 0.5:
            builder.text(rng.choice(_JOINERS) + rng.choice(_FILLER))
        if as_json:
            builder.text('","status":"error","duration_ms":523}')
        samples.append(builder.build())
    return samples


# ---- look-alikes ------------------------------------------------------------------------------


def _hex(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(count))


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def _lookalike_makers() -> list[tuple[str, Callable[[random.Random], str]]]:
    """(category, maker) pairs; each maker returns one harmless value in a typical setting."""
    return [
        ("rx number", lambda r: f"prescription {_digits(r, 8)}"),
        ("rx number", lambda r: f"/my_health/v1/prescriptions/{_digits(r, 8)}/refill"),
        ("rx number", lambda r: f'"prescription_id":{_digits(r, 8)}'),
        ("order number", lambda r: f"order {_digits(r, 10)} shipped"),
        ("order number", lambda r: f"tracking_number={_digits(r, 9)}"),
        ("station", lambda r: f"station {r.randrange(358, 759)}"),
        ("station", lambda r: f"facility={r.randrange(358, 759)}A{r.randrange(1, 10)}"),
        ("station", lambda r: f"/vista/{r.randrange(358, 759)}/rpc/ORWPS_COVER"),
        ("duration", lambda r: f"completed in {r.randrange(1, 20000)}ms"),
        ("duration", lambda r: f"took {r.randrange(1, 60)}.{r.randrange(0, 1000)}s"),
        ("duration", lambda r: f"duration_ms={r.randrange(1, 99999)}.{r.randrange(0, 10)}"),
        ("http status", lambda r: f"HTTP {r.choice([200, 201, 204, 400, 404, 422, 502, 503])}"),
        ("http status", lambda r: f'"status_code":{r.choice([200, 403, 500, 504])}'),
        (
            "timestamp",
            lambda r: (
                f"2026-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}T"
                f"{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}."
                f"{r.randrange(1000):03d}Z"
            ),
        ),
        (
            "timestamp",
            lambda r: (
                f"2026-11-{r.randrange(1, 29):02d} {r.randrange(24):02d}:"
                f"{r.randrange(60):02d}:{r.randrange(60):02d}"
            ),
        ),
        ("timestamp", lambda r: f"ts={r.randrange(1_700_000_000_000, 1_800_000_000_000)}"),
        ("timestamp", lambda r: f"epoch {r.randrange(1_700_000_000, 1_800_000_000)}"),
        ("timestamp", lambda r: f"on {r.randrange(1, 13)}/{r.randrange(1, 29)}/2026"),
        ("request id", lambda r: f"request_id={_uuid(r)}"),
        ("request id", lambda r: f'"request_id":"{_uuid(r)}"'),
        ("request id", lambda r: f"X-Request-Id: {_uuid(r).upper()}"),
        ("request id", lambda r: f"request {_uuid(r)} completed"),
        ("request id", lambda r: f"trace_id={_hex(r, 32)}"),
        ("request id", lambda r: f"traceparent: 00-{_hex(r, 32)}-{_hex(r, 16)}-01"),
        ("request id", lambda r: f"span_id={_hex(r, 16)}"),
        ("git sha", lambda r: f"ref {_hex(r, 40)}"),
        ("git sha", lambda r: f"Deployed vets-api ref {_hex(r, 7)} (previous {_hex(r, 7)})"),
        ("git sha", lambda r: f'"version":"{_hex(r, 40)}"'),
        ("ip", lambda r: ".".join(str(r.randrange(1, 256)) for _ in range(4))),
        ("ip", lambda r: f"remote_ip=10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(256)}"),
        ("ip", lambda r: f"2001:db8::{_hex(r, 4)}:{_hex(r, 4)}"),
        ("ip", lambda r: f"connect 127.0.0.1:{r.randrange(1024, 65536)}"),
        (
            "version",
            lambda r: f"v{r.randrange(10)}.{r.randrange(30)}.{r.randrange(30)}",
        ),
        (
            "version",
            lambda r: (
                f"Chrome {r.randrange(100, 140)}.0.{r.randrange(1000, 9999)}.{r.randrange(10, 200)}"
            ),
        ),
        ("version", lambda r: f"iOS {r.randrange(15, 19)}.{r.randrange(6)}.{r.randrange(3)}"),
        (
            "error code",
            lambda r: r.choice(
                ["RX135", "RX138", "RX139", "RX99", "SM105", "SM119", "SM129", "SM151", "SM901"]
            ),
        ),
        ("error code", lambda r: r.choice(["MVI_503", "MHVACCTCREATION159", "code 103"])),
        ("port", lambda r: f"port {r.randrange(1, 65536)}"),
        ("port", lambda r: f"host db.internal:{r.randrange(1024, 65536)}"),
        ("count", lambda r: f"{r.randrange(1, 500)} of {r.randrange(500, 5000)} rows"),
        ("count", lambda r: f"count={r.randrange(0, 10**7)}"),
        ("help desk", lambda r: f"HRC-HD-Y{r.randrange(1, 9)}-{_digits(r, 10, first='0')}"),
        ("trace id", lambda r: f"dd.trace_id={_digits(r, r.choice([19, 20]))}"),
        ("trace id", lambda r: f"trace {_digits(r, 19)}"),
        ("signature", lambda r: f"signature {_hex(r, 12)}"),
        (
            "bytes",
            lambda r: f"{r.randrange(1, 99999)} bytes ({r.randrange(1, 99)}.{r.randrange(10)} KB)",
        ),
        ("percent", lambda r: f"error rate {r.randrange(0, 100)}.{r.randrange(100):02d}%"),
        ("date", lambda r: f"resolved 2026-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"),
        ("math", lambda r: f"{r.randrange(100, 999)}-{r.randrange(10, 99)}={r.randrange(0, 999)}"),
    ]


def lookalike_corpus(seed: int, size: int) -> list[tuple[str, str]]:
    """``size`` (category, string) pairs; every category appears, most several times."""
    rng = random.Random(seed)
    makers = _lookalike_makers()
    corpus: list[tuple[str, str]] = []
    for index in range(size):
        category, maker = makers[index % len(makers)]
        pieces = [maker(rng)]
        for _ in range(rng.randrange(0, 3)):
            pieces.append(rng.choice(makers)[1](rng))
        if rng.random() < 0.3:
            pieces.insert(0, rng.choice(["GET /v0/user", "MHV::Client", "[SignIn]", "note:"]))
        corpus.append((category, rng.choice(_JOINERS).join(pieces)))
    return corpus
