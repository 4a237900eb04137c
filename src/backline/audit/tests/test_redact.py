"""The redactor: identifiers found and masked in every position, look-alikes left alone, stable
tokens, masked log events. Framework-free: runs with ``-p no:django``."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import random
import re
import time
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.audit.redact import (
    DOB,
    EDIPI,
    EMAIL,
    ICN,
    MHV,
    OTHER,
    PHONE,
    SSN,
    UUID,
    Found,
    Redactor,
    canonical,
    kind_for_key,
)
from backline.audit.tests.corpus import Sample, identifier_corpus, lookalike_corpus

KEY = b"test-key-not-a-secret"
TOKEN = r"\[(?:ICN|UUID|EDIPI|SSN|DOB|EMAIL|PHONE|MHV|ID):[0-9a-f]{6}\]"
# The schema's protected paths, copied so this test needs no import from the logs app.
PROTECTED = frozenset(
    {"user_id", "user_uuid", "usr.id", "usr.email", "icn", "edipi", "ssn", "birth_date", "email"}
    | {"phone", "mhv_id", "mhv_correlation_id", "payload.icn", "payload.edipi", "payload.phone"}
)


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(KEY)


@pytest.fixture(scope="module")
def corpus() -> list[Sample]:
    return identifier_corpus(seed=20261128, size=400)


# ---- the identifier corpus --------------------------------------------------------------------


def test_corpus_is_large_and_varied(corpus: list[Sample]) -> None:
    kinds = {planted.kind for sample in corpus for planted in sample.planted}
    assert len(corpus) >= 200
    assert kinds == {ICN, UUID, EMAIL, PHONE, SSN, EDIPI, DOB, MHV}
    assert sum(len(sample.planted) > 1 for sample in corpus) >= 100
    assert any(sample.planted[0].start == 0 for sample in corpus)
    assert any(sample.planted[-1].end == len(sample.text) for sample in corpus)


def test_find_reports_exactly_the_planted_identifiers(
    redactor: Redactor, corpus: list[Sample]
) -> None:
    for sample in corpus:
        found = redactor.find(sample.text)
        expected = [(p.kind, p.start, p.end) for p in sample.planted]
        assert [(f.kind, f.start, f.end) for f in found] == expected, sample.text
        assert all(f.value == sample.text[f.start : f.end] for f in found)


def test_every_identifier_is_masked_and_the_rest_is_intact(
    redactor: Redactor, corpus: list[Sample]
) -> None:
    for sample in corpus:
        # The redacted text must be the original pieces between identifiers, in order, with a
        # token of the right kind where each identifier was.
        pattern = ""
        position = 0
        for planted in sample.planted:
            pattern += re.escape(sample.text[position : planted.start])
            pattern += rf"\[{planted.kind}:[0-9a-f]{{6}}\]"
            position = planted.end
        pattern += re.escape(sample.text[position:])
        redacted = redactor.redact_text(sample.text)
        assert re.fullmatch(pattern, redacted), (sample.text, redacted)
        for planted in sample.planted:
            assert sample.text[planted.start : planted.end] not in redacted


def test_tokens_follow_identities(redactor: Redactor, corpus: list[Sample]) -> None:
    """Equal identifiers (in any spelling) share a token; different ones do not."""
    token_of: dict[tuple[str, str], str] = {}
    spellings: dict[tuple[str, str], set[str]] = defaultdict(set)
    for sample in corpus:
        redacted = redactor.redact_text(sample.text)
        tokens = re.findall(TOKEN, redacted)
        assert len(tokens) == len(sample.planted)
        for planted, token in zip(sample.planted, tokens, strict=True):
            identity = (planted.kind, planted.identity)
            assert token_of.setdefault(identity, token) == token, identity
            spellings[identity].add(sample.text[planted.start : planted.end])
    assert len(set(token_of.values())) == len(token_of)
    # The corpus did exercise different spellings of one person.
    assert sum(len(forms) > 1 for forms in spellings.values()) >= 40


def test_redacting_twice_changes_nothing_more(redactor: Redactor, corpus: list[Sample]) -> None:
    for sample in corpus:
        once = redactor.redact_text(sample.text)
        assert redactor.redact_text(once) == once
        assert redactor.find(once) == []


# ---- look-alikes ------------------------------------------------------------------------------


def test_lookalikes_are_left_alone(redactor: Redactor) -> None:
    corpus = lookalike_corpus(seed=648, size=400)
    assert len({category for category, _text in corpus}) >= 15
    for category, text in corpus:
        assert redactor.find(text) == [], (category, text)
        assert redactor.redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "prescription 12345678",
        "order 1234567890",  # EDIPI-shaped, no keyword
        "id 123456789",  # SSN-shaped, no keyword
        "created 1956-03-14",  # a date, no keyword
        "648A4",
        "523ms 1.5s HTTP 503",
        "1732800000000",
        "2026-11-28 14:03:22",
        "2026-11-28T14:03:22.123-05:00",
        "HRC-HD-Y4-0000447389",
        "RX139 MVI_503 SM151",
        "remote_ip=203.0.113.7 ::1 fe80::1ff:fe23:4567:890a",
        "dd.trace_id=1234567890123456789",
        "request_id=5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "X-Request-Id: 5F0C1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B",
        "etag 0cc175b9c0f1b6a831c399e269772661",
        "stubborn 1956-03-14",  # "born" inside a word is not a keyword
        "hotel 5558675309",  # nor is "tel"
        "version 4.12.2026",
        "phone_count=2",
        "edipis: 2",
        "born 12 days ago",
    ],
)
def test_named_lookalikes(redactor: Redactor, text: str) -> None:
    assert redactor.redact_text(text) == text


# ---- documented rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("ICN 1012345678v123456", [ICN]),
        ("edipis: [1234567890, 2345678901]", [EDIPI, EDIPI]),
        ("edipi=123456789", [EDIPI]),  # malformed (9 digits) but named: still masked
        ("edipi=1012345678V123456", [ICN]),
        ("ssn 123 45 6789 and 987654321", [SSN, SSN]),
        ("SSN ending 6789", []),  # a last four alone is not masked
        ("MHV ID 12345678 and MHV IEN 7654321", [MHV, MHV]),
        ("mhv_correlation_id=1234", []),  # too short to be one
        ("correlation id 12345678901234567890", []),  # 20 digits: a trace id
        ("dob 3/14/56", [DOB]),
        ("born on March 14th, 1956", [DOB]),
        ('"birth_date":"1956-03-14T00:00:00Z"', [DOB]),
        ("tel:+1-555-867-5309", [PHONE]),
        ("phone 555 867 5309", [PHONE]),
        ("555 867 5309", []),  # spaces only, no keyword: too like a list of counts
        ("jane%40example.com", [EMAIL]),
        ("git@github.com:org/repo", [EMAIL]),  # over-masking accepted (see docs)
        ("5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b", [UUID]),
        ("12345678901234567890123456789012", []),  # 32 decimal digits is not a UUID
        ("request for user 5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", [UUID]),
        ("ICN 1012345678V123456, phone: 555-867-5309, 1012345678V123456", [ICN, PHONE, ICN]),
    ],
)
def test_rules(redactor: Redactor, text: str, kinds: list[str]) -> None:
    assert [found.kind for found in redactor.find(text)] == kinds


def test_offsets_hold_for_non_ascii_text(redactor: Redactor) -> None:
    # "İ".lower() is two characters long; the redactor must not shift offsets.
    text = "İİ note for İstanbul: 1012345678V123456 ✓"
    (found,) = redactor.find(text)
    assert found == Found(ICN, 22, 39, "1012345678V123456")
    assert redactor.redact_text(text).startswith("İİ note for İstanbul: [ICN:")


def test_token_is_kind_and_keyed_hash_compatible_with_subject_digest() -> None:
    """The hex is BLAKE2b(canonical form upper-cased, key[:64]): what audit.services.subject_digest
    computes from SECRET_KEY, so tokens line up with mask_identifier and the audit log."""
    long_key = bytes(range(100))
    redactor = Redactor(long_key)
    icn = "1012345678v123456"
    expected = hashlib.blake2b(b"1012345678V123456", key=long_key[:64], digest_size=32)
    assert redactor.digest(ICN, icn) == expected.hexdigest()
    assert redactor.token(ICN, icn) == f"[ICN:{expected.hexdigest()[:6]}]"


def test_key_changes_every_token(redactor: Redactor, corpus: list[Sample]) -> None:
    other = Redactor(b"another-key")
    planted = {(p.kind, sample.text[p.start : p.end]) for sample in corpus for p in sample.planted}
    assert all(redactor.token(kind, value) != other.token(kind, value) for kind, value in planted)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty key"):
        Redactor(b"")


@pytest.mark.parametrize(
    ("kind", "spellings", "expected"),
    [
        (ICN, ["1012345678V123456", "1012345678v123456 "], "1012345678V123456"),
        (
            UUID,
            ["5F0C1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B", "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b"],
            "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        ),
        (
            PHONE,
            ["(555) 867-5309", "+1 555 867 5309", "555.867.5309", "1-555-867-5309"],
            "5558675309",
        ),
        (EMAIL, ["Jane.Doe@Example.COM", "jane.doe%40example.com"], "jane.doe@example.com"),
        (SSN, ["123-45-6789", "123 45 6789", "123456789"], "123456789"),
        (
            DOB,
            ["1956-03-14", "03/14/1956", "3/14/1956", "19560314", "March 14, 1956", "14 Mar 1956"],
            "1956-03-14",
        ),
        (DOB, ["3/14/56"], "3/14/56"),  # a two-digit year is not guessed
    ],
)
def test_canonical_forms(kind: str, spellings: list[str], expected: str) -> None:
    assert {canonical(kind, spelling) for spelling in spellings} == {expected}


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("icn", ICN),
        ("payload.other_icn", ICN),
        ("icns", ICN),
        ("dod_edipi", EDIPI),
        ("usr.id", UUID),
        ("user_uuid", UUID),
        ("mhvCorrelationId", MHV),
        ("birth_date", DOB),
        ("usr.email", EMAIL),
        ("phone_number", PHONE),
        ("request_id", None),
        ("status", None),
        ("email_verified", None),
    ],
)
def test_kind_for_key(key: str, kind: str | None) -> None:
    assert kind_for_key(key) == kind


# ---- events -----------------------------------------------------------------------------------


def _event() -> dict[str, object]:
    return {
        "timestamp": "2026-11-28T14:03:22.123Z",
        "status": "error",
        "message": "MVI_503 MPI find_profile failed for ICN 1012345678V123456 after 523ms",
        "user_id": "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "request_id": "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "named_tags": {"request_id": "7f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "ref": "4bf92f3"},
        "status_code": 503,
        "duration_ms": 523.4,
        "facility": "648",
        "ok": False,
        "note": None,
        "usr": {"id": "not-even-a-uuid", "email": "Jane.Doe@example.com"},
        "payload": {"icn": 1012345678, "phone": "5558675309", "other_icn": "1012345678V654321"},
        "attrs": {"payload": {"edipi": ["1234567890", "2345678901"]}},
        "tags": ["env:prod", "contact jane.doe@example.com"],
        "1012345678V123456": "a key is never changed",
    }


def test_redact_event_masks_protected_paths_whole_and_free_text(redactor: Redactor) -> None:
    event = _event()
    before = copy.deepcopy(event)
    masked = redactor.redact_event(event, protected_paths=PROTECTED)
    assert event == before  # a copy, the input untouched
    assert list(masked) == list(event)  # keys untouched, in order
    icn_token = redactor.token(ICN, "1012345678V123456")
    assert masked["message"] == f"MVI_503 MPI find_profile failed for ICN {icn_token} after 523ms"
    assert masked["user_id"] == redactor.token(UUID, "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
    # Protected paths: masked whole, whatever the format or type.
    assert masked["usr"] == {
        "id": redactor.token(UUID, "not-even-a-uuid"),
        "email": redactor.token(EMAIL, "jane.doe@example.com"),
    }
    assert masked["payload"] == {
        "icn": redactor.token(ICN, "1012345678"),
        "phone": redactor.token(PHONE, "(555) 867-5309"),
        # not in the protected list, but its name says what it holds
        "other_icn": redactor.token(ICN, "1012345678v654321"),
    }
    # A protected path matches under a parent too, and masks each item of a list.
    assert masked["attrs"] == {
        "payload": {
            "edipi": [redactor.token(EDIPI, "1234567890"), redactor.token(EDIPI, "2345678901")]
        }
    }
    assert masked["tags"] == [
        "env:prod",
        f"contact {redactor.token(EMAIL, 'jane.doe@example.com')}",
    ]
    # Operational values stay: request ids (stitching needs them), numbers, flags, None.
    for key in ("timestamp", "status", "request_id", "named_tags", "status_code", "duration_ms"):
        assert masked[key] == event[key]
    assert (masked["facility"], masked["ok"], masked["note"]) == ("648", False, None)
    assert masked["1012345678V123456"] == "a key is never changed"


def test_redact_event_masks_a_uuid_outside_request_id_attributes(redactor: Redactor) -> None:
    uuid = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    masked = redactor.redact_event(
        {"session": uuid, "x_request_id": uuid, "trace": {"span_id": uuid}}, protected_paths=()
    )
    assert masked == {
        "session": redactor.token(UUID, uuid),
        "x_request_id": uuid,
        "trace": {"span_id": uuid},
    }


def test_redact_event_unknown_kind_in_protected_path(redactor: Redactor) -> None:
    masked = redactor.redact_event(
        {"subject": "abc-123", "blank": ""}, protected_paths={"subject", "blank"}
    )
    assert masked == {"subject": redactor.token(OTHER, "abc-123"), "blank": ""}
    shaped = redactor.redact_event({"subject": "1012345678V123456"}, protected_paths={"subject"})
    assert shaped == {"subject": redactor.token(ICN, "1012345678V123456")}


def test_redact_event_json_string_attrs(redactor: Redactor) -> None:
    """An attrs column read back as a JSON string is masked by its keywords."""
    attrs = json.dumps({"payload": {"edipi": "1234567890", "mhv_correlation_id": "12345678"}})
    masked = redactor.redact_event({"attrs": attrs}, protected_paths=PROTECTED)
    assert json.loads(masked["attrs"]) == {
        "payload": {
            "edipi": redactor.token(EDIPI, "1234567890"),
            "mhv_correlation_id": redactor.token(MHV, "12345678"),
        }
    }


# ---- properties -------------------------------------------------------------------------------

_ANY_CHARACTER = st.characters(codec="utf-8")  # any character UTF-8 can carry
_SEPARATORS = st.sampled_from(list(" ,;:()[]{}<>\"'/=|\t\n"))
_FILLER = st.text(alphabet=_ANY_CHARACTER, max_size=40)
_ICNS = st.builds(
    lambda digits, v, tail: f"{digits}{v}{tail}",
    st.integers(10**9, 10**10 - 1),
    st.sampled_from("Vv"),
    st.integers(10**5, 10**6 - 1),
)
_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,20}", fullmatch=True),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)
_PHONE_FORMATS = [
    "({a}) {b}-{c}",
    "{a}-{b}-{c}",
    "{a}.{b}.{c}",
    "+1 {a} {b} {c}",
    "+1{a}{b}{c}",
    "+1 ({a}) {b}-{c}",
    "1-{a}-{b}-{c}",
]
_PHONES = st.builds(
    lambda a, b, c, form: (f"{a}{b}{c:04d}", form.format(a=a, b=b, c=f"{c:04d}")),
    st.integers(200, 999),
    st.integers(200, 999),
    st.integers(0, 9999),
    st.sampled_from(_PHONE_FORMATS),
)


@st.composite
def _embedded(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(text, kind, the identifier as written, its canonical spelling)."""
    choice = draw(st.sampled_from([ICN, EMAIL, PHONE]))
    if choice == ICN:
        written = draw(_ICNS)
        plain = written.upper()
    elif choice == EMAIL:
        written = draw(_EMAILS)
        plain = written.lower()
    else:
        plain, written = draw(_PHONES)
    text = draw(_FILLER) + draw(_SEPARATORS) + written + draw(_SEPARATORS) + draw(_FILLER)
    return text, choice, written, plain


@settings(max_examples=300, deadline=None)
@given(_embedded())
def test_identifiers_in_random_text_are_always_masked(
    redactor: Redactor, case: tuple[str, str, str, str]
) -> None:
    text, kind, written, plain = case
    redacted = redactor.redact_text(text)
    assert written not in redacted
    # The same person in its plainest spelling gets the same token.
    assert redactor.token(kind, plain) in redacted
    assert redactor.redact_text(redacted) == redacted


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ANY_CHARACTER, max_size=200))
def test_find_and_redact_agree_on_any_text(redactor: Redactor, text: str) -> None:
    found = redactor.find(text)
    assert all(f.value == text[f.start : f.end] for f in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    expected = text
    for item in reversed(found):
        expected = (
            expected[: item.start] + redactor.token(item.kind, item.value) + expected[item.end :]
        )
    assert redactor.redact_text(text) == expected


# ---- speed (reported, not asserted) ------------------------------------------------------------


def _log_rows(count: int) -> list[dict[str, object]]:
    """Rows shaped like the explorer's: 20 fields, varied values, an identifier in some messages."""
    rng = random.Random(7)
    messages = [
        "Completed 200 OK in {ms}ms (Views: 3.1ms | ActiveRecord: 12.4ms)",
        "MVI_503 MPI find_profile failed for ICN 10{d8}V{d6}: service unavailable",
        "RX139 prescription {d8} is not refillable",
        "SM105 User not found for MHV correlation id {d8}",
        "[SignIn] Login failed, code 107: account locked for user{d6}@example.com",
        "VistA station 648 returned 503 Service Unavailable after {ms}ms",
    ]
    rows = []
    for index in range(count):
        hex32 = f"{rng.getrandbits(128):032x}"
        message = rng.choice(messages).format(
            ms=rng.randrange(5, 20000),
            d8=rng.randrange(10**7, 10**8),
            d6=rng.randrange(10**5, 10**6),
        )
        rows.append(
            {
                "ts": f"2026-11-28T14:{index % 60:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
                "service": "vets-api",
                "host": f"web-{rng.randrange(8)}",
                "status": rng.choice(["info", "warn", "error"]),
                "message": message,
                "user_id": f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-{hex32[16:20]}-{hex32[20:]}",
                "request_id": f"{rng.getrandbits(128):032x}",
                "trace_id": str(rng.getrandbits(63)),
                "http_method": "GET",
                "path": f"/my_health/v1/prescriptions/{rng.randrange(10**7, 10**8)}",
                "status_code": rng.choice([200, 404, 503]),
                "duration_ms": rng.random() * 2000,
                "upstream": "vista",
                "facility": str(rng.randrange(358, 759)),
                "data_source": "VISTA",
                "error_code": "RX139",
                "version": f"{rng.getrandbits(160):040x}",
                "signature": f"{rng.getrandbits(48):012x}",
                "remote_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            }
        )
    return rows


def test_throughput_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints rows/second for a 500-row page of 20 fields (run with -s to see it)."""
    rows = _log_rows(500)
    redactor = Redactor(KEY)  # a cold memo, as for a fresh page
    started = time.perf_counter()
    masked = [redactor.redact_event(row, protected_paths=PROTECTED) for row in rows]
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nredact_event: {len(rows) / elapsed:,.0f} rows/s ({elapsed * 1000:.1f} ms / 500 rows)"
        )
    assert all(re.fullmatch(TOKEN, str(row["user_id"])) for row in masked)
    assert not any("@example.com" in str(row["message"]) for row in masked)
    assert [row["request_id"] for row in masked] == [row["request_id"] for row in rows]


def test_django_wrapper_agrees_with_mask_identifier() -> None:
    """Runs when the suite runs with Django: the SECRET_KEY wrapper and mask_identifier agree."""
    from django.conf import settings as django_settings

    if not django_settings.configured:
        pytest.skip("Django is not configured (run without -p no:django to include this test)")
    from backline.audit.masking import mask_identifier, redact_log_fields

    icn = "1012345678V123456"
    masked = redact_log_fields(
        {"user_id": "5F0C1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B", "message": f"failed for ICN {icn}"}
    )
    assert (
        masked["user_id"] == f"[UUID:{mask_identifier('5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b')[5:]}]"
    )
    assert masked["message"] == f"failed for ICN [ICN:{mask_identifier(icn)[4:]}]"


@pytest.mark.parametrize(
    "text",
    [
        "phone" + " " * 20_000 + "x1",
        "dob" + "\t" * 20_000 + "1956",
        "edipi=1234567890" + " " * 20_000 + "and x",
        "edipi" + ": " * 10_000 + "1",
        "a@" + "b." * 10_000,
    ],
)
def test_long_runs_stay_linear(redactor: Redactor, text: str) -> None:
    """Inputs that once made the keyword rule backtrack quadratically (minutes, not milliseconds).

    The assertion is about the result; a regression shows as this test taking minutes.
    """
    found = redactor.find(text)
    assert [f.kind for f in found] == ([EDIPI] if text.startswith("edipi=") else [])
