"""Queries run for real against the in-memory ``events`` table: which rows does each one match?"""

from __future__ import annotations

import duckdb
import pytest

from backline.logs.query import compile_query
from backline.logs.query.tests.conftest import ALL_IDS, run_query


def ids(*numbers: int) -> set[str]:
    return {f"r{n:02d}" for n in numbers}


def all_but(*numbers: int) -> set[str]:
    return set(ALL_IDS) - ids(*numbers)


ERROR_ROWS = ids(1, 3, 4, 7, 13, 16, 18, 19)  # error, ERROR, err, and syslog severity 3
EVERYTHING = set(ALL_IDS)

CASES: list[tuple[str, set[str]]] = [
    # the empty query and match-all
    ("", EVERYTHING),
    ("   ", EVERYTHING),
    ("*", EVERYTHING),
    # free text: case-insensitive substring of the message
    ("refill", ids(1, 5, 11)),
    ("REFILL", ids(1, 5, 11)),
    ("rx139", ids(1)),
    ("vista", ids(2, 7)),
    ("hello world", ids(9, 10, 15)),
    ('"hello world"', ids(9, 10)),
    ('"HELLO WORLD"', ids(9, 10)),
    ('"not refillable"', ids(1)),
    # free-text wildcards; % and _ are ordinary characters
    ("prescription*", ids(1, 8, 18)),
    ("pre?cription", ids(1, 8, 18)),
    ("gate*vista", ids(7)),
    ("MVI?503", ids(6)),
    ("mvi_503", ids(6)),
    ("50%", ids(11)),
    ("e_n", ids(11)),
    ("done?now", ids(11)),
    # a star inside quotes or escaped is literal
    ('"*"', ids(17)),
    (r"\*", ids(17)),
    # boolean operators and precedence (NOT > AND > OR)
    ("hello OR vista", ids(2, 7, 9, 10, 15)),
    ("hello || vista", ids(2, 7, 9, 10, 15)),
    ("prescription* -refillable", ids(8, 18)),
    ("prescription* NOT refillable", ids(8, 18)),
    ("prescription* AND NOT refillable", ids(8, 18)),
    ("prescription* && -refillable", ids(8, 18)),
    ("NOT refill", all_but(1, 5, 11)),
    ("-(-refill)", ids(1, 5, 11)),
    ("hello OR vista slow", ids(2, 9, 10, 15)),
    ("(hello OR vista) slow", ids(2)),
    ("NOT hello OR vista", all_but(9, 10, 15)),
    ("NOT (hello OR vista)", all_but(2, 7, 9, 10, 15)),
    ("refill AND accepted OR timeout", ids(5, 7)),
    ("refill OR timeout AND vista", ids(1, 5, 7, 11)),
    ("refill OR timeout vista", ids(1, 5, 7, 11)),
    # reserved attributes: exact and case sensitive
    ("service:vets-api", all_but(7, 13)),
    ("service:VETS-API", set()),
    ("service:vets*", all_but(7, 13)),
    ("service:*api", all_but(13)),
    ("-service:vets-api", ids(7, 13)),
    ("NOT(service:vets-api)", ids(7, 13)),
    ("host:web-2", ids(11, 12, 13, 15, 16, 17, 18, 19, 20)),
    ("version:abc*", ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)),
    ("host:web-2 -status:info", ids(12, 13, 16, 18, 19)),
    # status levels follow Datadog's status remapper, on both sides
    ("status:error", ERROR_ROWS),
    ("status:err", ERROR_ROWS),
    ("status:ERROR", ERROR_ROWS),
    ("status:e*", ERROR_ROWS),
    ("status:warn", ids(2, 12)),
    ("status:warning", ids(2, 12)),
    ("status:info", ids(5, 9, 10, 11, 15, 17, 20)),
    ("status:debug", ids(8)),
    ("status:critical", ids(6)),
    ("status:(warn OR critical)", ids(2, 6, 12)),
    ("-status:error", EVERYTHING - ERROR_ROWS),
    ("-status:*", ids(14)),
    ("status:bogus", set()),
    # reserved attributes that live in the attrs JSON
    ("env:prod", ids(1, 2, 4, 5, 6, 20)),
    ("env:(prod OR staging)", ids(1, 2, 3, 4, 5, 6, 20)),
    ("env:(prod staging)", set()),
    ("-env:prod", all_but(1, 2, 4, 5, 6, 20)),
    ("env:*", ids(1, 2, 3, 4, 5, 6, 9, 20)),
    ("-env:*", all_but(1, 2, 3, 4, 5, 6, 9, 20)),
    ("source:python", ids(13)),
    # the examples from the docs
    ("service:vets-api @error_code:RX139", ids(1)),
    ("@upstream:vista status:error -@facility:648", ids(7)),
    ("service:vets-api status:error refill", ids(1)),
    # lifted attributes, under either of their names
    ("@error_code:RX139", ids(1)),
    ("@error.code:RX139", ids(1)),
    ("@error_code:rx139", set()),
    ("@error_code:RX13?", ids(1, 18)),
    ("@error_code:(RX139 OR SM*)", ids(1, 3, 4)),
    ("@error_code:(RX* -RX99)", ids(1, 18)),
    ("@usr.id:u-1", ids(1, 5)),
    ("@user_uuid:u-*", ids(1, 5, 16)),
    ("@station_number:648", ids(1, 4, 18)),
    ("@facility:6*", ids(1, 3, 4, 18)),
    # nested JSON attributes
    ("@payload.icn:1012345678V123456", ids(1, 5)),
    ("@payload.icn:*V123456", ids(1, 5)),
    ("@payload.icn:1012345678V*", ids(1, 2, 5, 16)),
    ("-@payload.icn:*", all_but(1, 2, 5, 16)),
    ("@payload.rx_id:17", ids(1)),
    ("@payload.rx_id:17.0", ids(1)),
    ("@signin.code:009", ids(13)),
    ("@http.headers.x-request-id:abc", ids(7)),
    ("@retry:true", ids(3)),
    # JSON numbers compare as numbers; JSON strings need their exact text
    ("@count:5", ids(16, 17)),
    ("@count:12", ids(18)),
    ("@code:005", ids(12)),
    ("@code:5", set()),
    # arrays match when any element does
    ("@tags:pharmacy", ids(1)),
    ("@tags:messaging", ids(20)),
    ("@tags:refi*", ids(1)),
    ("-@tags:*", all_but(1, 20)),
    # numeric comparisons and ranges
    ("@http.status_code:[400 TO 499]", ids(1, 3, 4, 12, 13, 18)),
    ("@http.status_code:{400 TO 499}", ids(3, 4, 12, 13, 18)),
    ("@http.status_code:>=500", ids(6, 7, 16)),
    ("@http.status_code:<400", ids(2, 5, 8, 9, 10, 15, 20)),
    ("@http.status_code:422", ids(3, 4)),
    ("@http.status_code:500", set()),
    ("@http.status_code:4*", ids(1, 3, 4, 12, 13, 18)),
    ("@status_code:(422 OR 404)", ids(3, 4, 18)),
    ("@http.status_code:*", all_but(11, 14, 17, 19)),
    ("-@http.status_code:*", ids(11, 14, 17, 19)),
    ("@duration_ms:>500", ids(2, 6, 7, 16)),
    ("@duration_ms:<=95", ids(3, 4, 8, 9, 10)),
    ("@duration_ms:[* TO 100]", ids(3, 4, 8, 9, 10)),
    ("@duration_ms:[100 TO 500]", ids(1, 5, 18, 20)),
    ("@duration_ms:>-1", ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 18, 20)),
    ("@duration_ms:[* TO *]", ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 18, 20)),
    ("@count:>4", ids(16, 17, 18)),
    ("@count:[5 TO 5]", ids(16, 17)),
    ("@count:{5 TO 12]", ids(18)),
    ("@count:{5 TO 12}", set()),
    ("@facility:>700", ids(16)),
    ("@http.status_code:[400 TO 499] @http.url_details.path:\\/my_health\\/v1\\/*", ids(1, 3, 4)),
    (
        "service:vets-api AND (status:warn OR @http.status_code:>=500)",
        ids(2, 6, 12, 16),
    ),
    # escaping, quoting and the ? wildcard in attribute values
    (r"@http.url_details.path:\/my_health\/v1\/*", ids(1, 2, 3, 4, 5, 20)),
    ("@http.url_details.path:/my_health/v1/messaging/*", ids(3, 4, 20)),
    ('@http.url_details.path:"/v0/user"', ids(6)),
    (r"@upstream_endpoint:\/mhv\-api\/patient\/v1\/prescription\/rxrefill", ids(1)),
    ("@upstream_endpoint:/vista/*", ids(7)),
    (r"@my_attribute:hello\ world", ids(15)),
    ('@my_attribute:"hello world"', ids(15)),
    ("@my_attribute:hello?world", ids(15)),
    ("@my_attribute:hello", set()),
    (r"@weird:a\:b", ids(15)),
    ("@weird:a:b", ids(15)),
    ('@weird:"a:b"', ids(15)),
    # *: full-text search over the message and every attribute, ignoring case
    ("*:logingov", ids(13)),
    ("*:1012345678V123456", ids(1, 5)),
    ("*:PHARMACY", ids(1)),
    ("*:*", EVERYTHING),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[case[0] or "<empty>" for case in CASES])
def test_query_matches_expected_rows(
    events_db: duckdb.DuckDBPyConnection, query: str, expected: set[str]
) -> None:
    assert run_query(events_db, query) == expected


def test_empty_query_compiles_to_true() -> None:
    compiled = compile_query("")
    assert (compiled.sql_where, compiled.params) == ("TRUE", [])


def test_only_question_mark_placeholders_carry_values() -> None:
    compiled = compile_query("@payload.icn:1012345678V123456 service:vets-api @x:>5")
    assert compiled.sql_where.count("?") == len(compiled.params)
    assert "1012345678V123456" in compiled.params
    assert '$."payload"."icn"' in compiled.params


@pytest.mark.parametrize(
    ("query", "param"), [("status:error", "error"), ("status:ERR", "error"), ("status:3", "error")]
)
def test_status_compiles_to_a_plain_comparison_with_the_canonical_level(
    query: str, param: str
) -> None:
    # The store keeps canonical levels, so no remapper CASE runs per row at query time.
    compiled = compile_query(query)
    assert compiled.sql_where == "COALESCE(status = ?, FALSE)"
    assert compiled.params == [param]
