"""Parsing: tree shapes, syntax errors with positions, and properties over random input."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backline.logs.query import (
    And,
    Compare,
    Exists,
    FullText,
    Match,
    MatchAll,
    Not,
    Or,
    Pattern,
    QuerySyntaxError,
    Range,
    Text,
    compile_query,
    parse,
    referenced_attributes,
)
from backline.logs.query.tests.conftest import ALL_IDS, run_query
from backline.logs.query.tests.test_compile import CASES


def word(text: str) -> Text:
    return Text(Pattern(text), quoted=False)


# -- tree shapes --------------------------------------------------------------------------------


def test_precedence_not_binds_tighter_than_and_than_or() -> None:
    assert parse("a OR NOT b c") == Or((word("a"), And((Not(word("b")), word("c")))))


def test_lowercase_operators_are_search_words() -> None:
    assert parse("a and b") == And((word("a"), word("and"), word("b")))
    assert parse("ANDROID ORACLE") == And((word("ANDROID"), word("ORACLE")))


def test_hyphen_negates_only_at_the_start_of_a_term() -> None:
    assert parse("vets-api -mhv-api") == And((word("vets-api"), Not(word("mhv-api"))))
    assert parse("@offset:-5") == Match("offset", Pattern("-5"))


def test_grouped_values_spread_the_attribute_over_each_value() -> None:
    assert parse("env:(prod OR -test)") == Or(
        (Match("env", Pattern("prod")), Not(Match("env", Pattern("test"))))
    )


def test_reserved_and_at_forms_are_the_same_attribute() -> None:
    assert parse("service:web") == parse("@service:web") == Match("service", Pattern("web"))


def test_wildcards_remember_which_characters_were_escaped() -> None:
    node = parse(r"@p:a\*b*")
    assert node == Match("p", Pattern("a*b*", frozenset({3})))
    assert isinstance(node, Match)
    assert node.pattern.like() == "a*b%"


def test_value_forms() -> None:
    assert parse("@a:*") == Exists("a")
    assert parse('@a:"*"') == Match("a", Pattern("*"))
    assert parse("@a:>=1.5") == Compare("a", ">=", 1.5)
    assert parse("@a:<-2") == Compare("a", "<", -2.0)
    assert parse("@a:[1 TO 2}") == Range("a", 1.0, 2.0, True, False)
    assert parse("@a:{* TO 2]") == Range("a", None, 2.0, False, True)
    assert parse("*:hello") == FullText(Pattern("hello"))
    assert parse("") == MatchAll()


def test_referenced_attributes() -> None:
    node = parse('hello service:web (@payload.icn:1* OR -@x.y:*) @d:>5 @c:[1 TO 2] *:z "p"')
    assert referenced_attributes(node) == {"service", "payload.icn", "x.y", "d", "c"}


# -- syntax errors ------------------------------------------------------------------------------

ERRORS: list[tuple[str, int, str]] = [
    ("(service:vets-api", 17, "')'"),
    ("service:vets-api)", 16, "end of query"),
    ("a ) b", 2, "end of query"),
    ("service:", 8, "a value"),
    ("service: vets-api", 8, "a value"),
    ("env:()", 5, "a search term"),
    ("env:(prod", 9, "')'"),
    ('"unterminated', 13, "'\"'"),
    ('@a:"x', 5, "'\"'"),
    ("hello AND", 9, "a search term"),
    ("hello OR", 8, "a search term"),
    ("OR hello", 0, "a search term"),
    ("NOT", 3, "a search term"),
    ("hello - world", 7, "a search term"),
    ("hello -", 7, "a search term"),
    ("()", 1, "a search term"),
    ("hello\\", 6, "a character to escape"),
    (":b", 0, "an attribute name made of letters, digits, '_', '-' and '.'"),
    ("@:b", 0, "an attribute name made of letters, digits, '_', '-' and '.'"),
    ("a @foo$bar:x", 2, "an attribute name made of letters, digits, '_', '-' and '.'"),
    ("@a*:x", 0, "an attribute name made of letters, digits, '_', '-' and '.'"),
    ("@x:>abc", 4, "a number after '>'"),
    ("@x:>", 4, "a number after '>'"),
    ("@x:[a TO 5]", 4, "a number or '*' as a range bound"),
    ("@x:[1 5]", 6, "'TO'"),
    ("@x:[1 TO 5", 10, "']' or '}'"),
    ("@x:[5 TO 1]", 11, "low <= high"),
    ("*:>5", 4, "a value"),
    ("@x:AND", 3, "a value"),
]


@pytest.mark.parametrize(("query", "position", "expected"), ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_error_position_and_expectation(query: str, position: int, expected: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(query)
    assert (caught.value.position, caught.value.expected) == (position, expected)
    assert str(caught.value).endswith(f"at position {position}")


def test_error_message_reads_naturally() -> None:
    with pytest.raises(QuerySyntaxError, match=r"^expected '\)' at position 14$"):
        parse("(a OR b OR cc ")


def test_error_survives_pickling() -> None:
    error = QuerySyntaxError("expected ')'", 3, "')'")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (copy.message, copy.position, copy.expected) == ("expected ')'", 3, "')'")


def test_deep_nesting_is_a_syntax_error_not_a_recursion_error() -> None:
    with pytest.raises(QuerySyntaxError, match="nests deeper"):
        parse("(" * 500 + "a" + ")" * 500)
    with pytest.raises(QuerySyntaxError, match="nests deeper"):
        parse("-" * 500 + "a")
    assert parse("(" * 20 + "a" + ")" * 20) == word("a")


def test_overlong_query_is_refused() -> None:
    with pytest.raises(QuerySyntaxError, match="longer than"):
        parse("a " * 6000)


# -- properties over random input ---------------------------------------------------------------

# Lone surrogates cannot be sent to DuckDB as UTF-8, and no browser submits them.
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
_FRAGMENTS = st.sampled_from(
    [
        "a", "B", "vets-api", "AND", "OR", "NOT", "&&", "||", "-", "(", ")", '"', "\\", "*", "?",
        ":", "@", "@a", "@a.b", "service", "status", "env", "*:", "[", "]", "{", "}", " TO ", ">",
        ">=", "<", "<=", "1", "-2.5", "1e3", " ", "  ", "%", "_", "'", ";", "é", "\t",
    ]
)  # fmt: skip
_SOUP = st.lists(_FRAGMENTS, max_size=14).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.one_of(_TEXT, _SOUP))
def test_random_input_compiles_to_valid_sql_or_raises_syntax_error(
    events_db: duckdb.DuckDBPyConnection, query: str
) -> None:
    try:
        compiled = compile_query(query)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(query)
        assert error.expected
        return
    assert compiled.sql_where.count("?") == len(compiled.params)
    # And the SQL really runs.
    sql = f"SELECT count(*) FROM events WHERE {compiled.sql_where}"  # noqa: S608
    events_db.execute(sql, compiled.params).fetchall()


_MARKER_WORD = st.text("abcxyz0123456789", min_size=3, max_size=8).map(lambda s: "qzk" + s)
_MARKER_QUERY = st.sampled_from(
    [
        "{m}",
        '"{m} {m}"',
        "-{m}*",
        "@{m}:{m}",
        "@{m}.{m}:*",
        "@{m}:>5",
        "@{m}:[1 TO 9]",
        "service:{m}",
        "status:{m}",
        "env:({m} OR -{m}?)",
        "*:{m}",
        "@payload.{m}:{m}",
    ]
)


@settings(max_examples=200, deadline=None)
@given(template=_MARKER_QUERY, marker=_MARKER_WORD)
def test_user_text_never_reaches_the_sql_string(template: str, marker: str) -> None:
    compiled = compile_query(template.format(m=marker))
    assert "qzk" not in compiled.sql_where.lower()
    assert any("qzk" in str(param) for param in compiled.params)


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE events; --comment",
        '@a:"x\'); DROP TABLE events; --"',
        "service:x' OR '1'='1",
        '@a.b-c:"\\" OR 1=1 --"',
    ],
)
def test_injection_attempts_are_plain_values(
    events_db: duckdb.DuckDBPyConnection, query: str
) -> None:
    compiled = compile_query(query)
    assert "DROP" not in compiled.sql_where and "1=1" not in compiled.sql_where
    assert run_query(events_db, query) == set()
    assert events_db.execute("SELECT count(*) FROM events").fetchone() == (len(ALL_IDS),)


# -- composition against a set-algebra oracle ---------------------------------------------------

# Leaves whose matching rows the table test already pins down, restricted to ones that are safe to
# combine textually (no surrounding whitespace issues).
_LEAVES = {query: expected for query, expected in CASES if query.strip() and " " not in query}


Composed = tuple[str, frozenset[str], str]  # query text, rows it matches, kind of its top node


def _leaf_strategy() -> st.SearchStrategy[Composed]:
    return st.sampled_from(sorted(_LEAVES)).map(lambda q: (q, frozenset(_LEAVES[q]), "leaf"))


def _combine(
    children: st.SearchStrategy[Composed],
) -> st.SearchStrategy[Composed]:
    def render_and(parts: list[Composed], explicit: bool) -> Composed:
        texts = [f"({t})" if kind == "or" else t for t, _, kind in parts]
        result = frozenset(ALL_IDS)
        for _, rows, _ in parts:
            result &= rows
        return ((" AND " if explicit else " ").join(texts), result, "and")

    def render_or(parts: list[Composed]) -> Composed:
        result: frozenset[str] = frozenset()
        for _, rows, _ in parts:
            result |= rows
        return (" OR ".join(t for t, _, _ in parts), result, "or")

    def render_not(part: Composed, dash: bool) -> Composed:
        text, rows, kind = part
        inner = text if kind in ("leaf", "not") else f"({text})"
        return (("-" if dash else "NOT ") + inner, frozenset(ALL_IDS) - rows, "not")

    return st.one_of(
        st.builds(render_and, st.lists(children, min_size=2, max_size=3), st.booleans()),
        st.builds(render_or, st.lists(children, min_size=2, max_size=3)),
        st.builds(render_not, children, st.booleans()),
    )


_COMPOSED = st.recursive(_leaf_strategy(), _combine, max_leaves=6)


@settings(max_examples=200, deadline=None)
@given(composed=_COMPOSED)
def test_combined_queries_match_set_algebra_of_their_parts(
    events_db: duckdb.DuckDBPyConnection, composed: Composed
) -> None:
    query, expected, _ = composed
    assert run_query(events_db, query) == set(expected)


# -- the user documentation stays true ----------------------------------------------------------

_DOC = Path(__file__).resolve().parents[5] / "docs" / "log-search.md"


def test_documented_error_messages_are_the_real_ones() -> None:
    rows = re.findall(r"^\| `(.+?)` \| `(expected .+?)` \|$", _DOC.read_text(), re.MULTILINE)
    assert len(rows) >= 5
    for query, message in rows:
        with pytest.raises(QuerySyntaxError) as caught:
            parse(query)
        assert str(caught.value) == message


def _section(title: str) -> str:
    text = _DOC.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_documented_example_queries_compile() -> None:
    glance = re.findall(r"^\| `([^`]+)` \|", _section("At a glance"), re.MULTILINE)
    recipes = re.findall(r"^\| [^|]+ \| `([^`]+)` \|$", _section("Recipes"), re.MULTILINE)
    assert len(glance) >= 10 and len(recipes) >= 8
    for query in glance + recipes:
        compile_query(query)
