"""Online log-template miner: one error signature (template id) per log message.

This module owns the grouping of masked messages into templates, the template ids and the
miner's saved state. It knows no database, no framework and no clock: timestamps are whatever
the caller passes to `add(..., at=...)`.

How a message is grouped (in the spirit of Drain, He et al. 2017, with our own rules):

1. Mask it (`masking.mask`): values become `<*>`, blanks are normalised, tokens are the
   blank-separated words.
2. If its masked text is exactly the text of a template, that is its group. Templates are
   unique, so this lookup gives the same answer as the full search below would.
3. Otherwise look only at templates with the same number of tokens and the same first token
   (a first token that looks like a value counts as `<*>`). A template accepts the message when,
   position by position, the tokens are equal, or the template has `<*>` there, or both tokens
   look like values (`token_kind` is VALUE: they hold a digit and no `/`, e.g. `node07`),
   and when at least `similarity` of the positions are equal or `<*>`. Among the templates that
   accept it, the one with the most equal tokens wins (the oldest on a tie); its template turns
   the differing positions into `<*>`.
4. Two plain words that differ (`startup` / `shutdown`) are never merged on sight: they often
   name different events. Instead, once `merge_after` templates of one position exist that are
   the same except for a word at one position (`session closed for user cyrus`, `... news`,
   `... root`), they are merged into one template with `<*>` there. Codes (`RX139`, `SM151`,
   `MVI_503`, `SOCKS5`) are never turned into `<*>`: an error code names the problem.

Template ids are the first 12 hex digits of the BLAKE2b hash of the template's first text. A
template keeps its id when it later generalises. When templates merge, the oldest one's id
survives and the others become aliases of it (`resolve`), so an id handed out earlier can always
be mapped to the group it belongs to now. Ids depend only on the messages seen, in order: the
same input gives the same ids in any process, and `to_state` / `from_state` carry everything the
miner needs to go on after a restart exactly as if it had not stopped.

A miner is not thread-safe; give each worker its own, or guard it with a lock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from operator import attrgetter, itemgetter
from typing import Any, Final, NamedTuple

from backline.patterns.masking import WILDCARD, Masker, digit_blind_key

__all__ = [
    "STATE_FORMAT",
    "Match",
    "TemplateMiner",
    "TokenKind",
    "grouping_accuracy",
    "mine_lines",
    "token_kind",
]

STATE_FORMAT = "backline.patterns.miner/1"


class TokenKind:
    """How a token may differ from another one at the same position of a template."""

    WORD: Final = 0  # plain word or punctuation shape: differing words merge only via `merge_after`
    VALUE: Final = 1  # holds a digit, no `/` (`tty2`, `part-00590.`): two values merge on sight
    CODE: Final = 2  # capital letters and digits (`RX139`): never generalised
    WILDCARD: Final = 3


_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:[_-][A-Z0-9]+)*")
_HAS_DIGIT = re.compile(r"\d")
_EDGE_PUNCTUATION = "()[]{}<>\"',;:.!?"


def token_kind(token: str) -> int:
    """Classify one masked token (see `TokenKind`)."""
    if token == WILDCARD:
        return TokenKind.WILDCARD
    if WILDCARD in token or "/" in token:
        # `uid=<*>`, `(<*>)`: a shape around a value, and paths such as `/api/v1/refills`:
        # their shape is part of the event.
        return TokenKind.WORD
    if _HAS_DIGIT.search(token) is None:
        return TokenKind.WORD
    if _CODE.fullmatch(token.strip(_EDGE_PUNCTUATION)):
        return TokenKind.CODE
    return TokenKind.VALUE


class Match(NamedTuple):
    """The group a message belongs to: its template id, the template now, whether it is new."""

    template_id: str
    template: str
    is_new: bool


# `Match(...)` runs the named tuple's `__new__`, a Python function; this is the same in C.
_new_match: Callable[[tuple[str, str, bool]], Match] = partial(tuple.__new__, Match)


# How to check in C that a message has a template's token at each position where the template
# is not `<*>`: a getter of those positions, the tokens found there, and how many there are.
_Literals = tuple[Callable[[list[str]], tuple[str, ...]], tuple[str, ...], int]


def _no_literals(tokens: list[str]) -> tuple[str, ...]:
    return ()


def _literals(tokens: list[str]) -> _Literals:
    """The `_Literals` of a template's tokens."""
    positions = [i for i, token in enumerate(tokens) if token != WILDCARD]
    if not positions:
        return _no_literals, (), 0
    getter = itemgetter(*positions, positions[0])  # two positions or more: always a tuple
    return getter, getter(tokens), len(positions)


class _Template:
    __slots__ = (
        "count",
        "first_seen",
        "id",
        "last_seen",
        "literals",
        "match",
        "merged_into",
        "seq",
        "text",
        "tokens",
    )

    def __init__(
        self, *, template_id: str, tokens: list[str], seq: int, text: str | None = None
    ) -> None:
        self.id = template_id
        self.tokens = tokens
        self.text = " ".join(tokens) if text is None else text
        self.match = _new_match((template_id, self.text, False))
        self.literals: _Literals | None = None  # made when first needed, see `_literals`
        self.count = 0
        self.first_seen: datetime | None = None
        self.last_seen: datetime | None = None
        self.seq = seq
        # Set when this template is folded into another one; memos may still point here.
        self.merged_into: _Template | None = None

    def seen(self, at: datetime | None) -> None:
        self.count += 1
        if at is not None:
            if self.first_seen is None or at < self.first_seen:
                self.first_seen = at
            if self.last_seen is None or at > self.last_seen:
                self.last_seen = at

    def live(self) -> _Template:
        template = self
        while template.merged_into is not None:
            template = template.merged_into
        return template


_TEMPLATE_ID = attrgetter("template_id")
_ROUTE_LIMIT = 8192
_FAST_LIMIT = 65536
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _template_id(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


class TemplateMiner:
    """Streaming template miner; see the module docstring for the rules.

    `similarity` is the least share of positions where a template must equal the message (or
    hold `<*>`) to accept it; `merge_after` is how many templates that differ by one word at the
    same position it takes to merge them into one.
    """

    def __init__(self, *, similarity: float = 0.5, merge_after: int = 3) -> None:
        if not 0.0 <= similarity <= 1.0:
            raise ValueError(f"similarity must be between 0 and 1, got {similarity!r}")
        if merge_after < 2:
            raise ValueError(f"merge_after must be at least 2, got {merge_after!r}")
        self.similarity = similarity
        self.merge_after = merge_after
        self._templates: dict[str, _Template] = {}
        self._aliases: dict[str, str] = {}
        self._by_text: dict[str, _Template] = {}
        self._leaves: dict[tuple[int, str], list[_Template]] = {}
        # Where each masked text went the first time: the same text always joins the same
        # group. Bounded; cleared when full. Part of the state, so restarts replay exactly.
        self._routes: dict[str, _Template] = {}
        self._seq = 0
        # Memos, not state; each only ever repeats what `_routes` says and is cleared with it.
        # `_fast`: digit-blind message -> the template its masked text is routed to, or, for
        # messages whose masked text keeps digits, the `Masker.kept_plan` of that key, with
        # `_fast_kept` keyed by key and kept digits. `_joined_routes`: masked tokens before
        # `join_masked` -> template, so a new line made of known tokens skips the join.
        self._masker = Masker()
        self._fast: dict[bytes, Any] = {}
        self._fast_kept: dict[tuple[bytes, Any], _Template] = {}
        self._joined_routes: dict[str, _Template] = {}
        # Digit-blind messages whose masked text keeps digits, seen once: `_fast` gets their
        # plan when a second one comes.
        self._kept_once: set[bytes] = set()
        self._kinds: dict[str, int] = {}

    # ---- public API -------------------------------------------------------------------------

    def add(self, message: str, *, at: datetime | None = None) -> Match:
        """Learn from `message` and return its group (created if none accepts it)."""
        # The hot path: a message whose digit-blind form was seen before costs one encode, one
        # translate and one or two dict look-ups. `encode()` without arguments takes CPython's
        # shortest path; it gives the same bytes unless the text holds a lone surrogate.
        try:
            key = message.encode().translate(_DIGITS_TO_ZERO)
        except UnicodeEncodeError:
            key = digit_blind_key(message)
        hit = self._fast.get(key)
        if hit is None:
            return self._add_new(message, key, at)
        if hit.__class__ is not _Template:
            digits = hit[0](message)
            found = self._fast_kept.get((key, digits))
            if found is None:
                return self._add_kept(key, digits, hit[1], at)
            hit = found
        if hit.merged_into is not None:
            hit = hit.live()
        if at is None:
            hit.count += 1
        else:
            hit.seen(at)
        match: Match = hit.match
        return match

    def add_many(self, messages: Iterable[str], *, at: datetime | None = None) -> list[Match]:
        """Return `[self.add(message, at=at) for message in messages]`, with less overhead.

        The same work, line by line and in order (each line may change what the next one
        joins); only the call of `add` per line and its attribute look-ups are saved, which is
        a good part of the cost of a line whose digit-blind form was seen before. (Making the
        keys of a whole batch with one encode and one translate was measured: slower.)
        """
        fast_get = self._fast.get  # `_fast` and `_fast_kept` are cleared, never replaced
        kept_get = self._fast_kept.get
        template_class = _Template
        matches: list[Match] = []
        append = matches.append
        table = _DIGITS_TO_ZERO
        for message in messages:
            try:
                key = message.encode().translate(table)
            except UnicodeEncodeError:
                key = digit_blind_key(message)
            hit = fast_get(key)
            if hit is None:
                append(self._add_new(message, key, at))
                continue
            if hit.__class__ is not template_class:
                digits = hit[0](message)
                found = kept_get((key, digits))
                if found is None:
                    append(self._add_kept(key, digits, hit[1], at))
                    continue
                hit = found
            if hit.merged_into is not None:
                hit = hit.live()
            if at is None:
                hit.count += 1
            else:
                hit.seen(at)
            append(hit.match)
        return matches

    def _add_new(self, message: str, key: bytes, at: datetime | None) -> Match:
        """Group a message whose digit-blind form is not in `_fast`."""
        masker = self._masker
        joined, kept = masker.joined_tokens(message, key)
        joined_routes = self._joined_routes
        template = joined_routes.get(joined)
        is_new = False
        if template is None:
            text = masker.join(joined)
            template = self._routes.get(text)
            if template is None:
                template, is_new = self._route(text)
            if len(joined_routes) >= _FAST_LIMIT:
                joined_routes.clear()
            joined_routes[joined] = template
        if template.merged_into is not None:
            template = template.live()
        fast = self._fast
        if len(fast) >= _FAST_LIMIT:
            self._clear_fast()
        if not kept:
            fast[key] = template
        elif key not in self._kept_once:
            # The plan for lines of this form is made when a second one comes: many forms
            # whose text keeps digits (a host name with a number in it) are seen only once.
            if len(self._kept_once) >= _FAST_LIMIT:
                self._clear_fast()
            self._kept_once.add(key)
        else:
            self._kept_once.discard(key)
            plan = masker.kept_plan(message, key, masker.join(joined))
            if plan is not None:
                if len(self._fast_kept) >= _FAST_LIMIT:
                    self._clear_fast()
                fast[key] = plan
                self._fast_kept[(key, plan[0](message))] = template
        if at is None:
            template.count += 1
        else:
            template.seen(at)
        if is_new:
            return _new_match((template.id, template.text, True))
        match: Match = template.match
        return match

    def _add_kept(self, key: bytes, digits: Any, pattern: str, at: datetime | None) -> Match:
        """Group a message of a known digit-blind form whose kept digits are new."""
        text = pattern.format(*digits)
        template = self._routes.get(text)
        is_new = False
        if template is None:
            template, is_new = self._route(text)
        elif template.merged_into is not None:
            template = template.live()
        if len(self._fast_kept) >= _FAST_LIMIT:
            self._clear_fast()
        else:
            self._fast_kept[(key, digits)] = template
        if at is None:
            template.count += 1
        else:
            template.seen(at)
        if is_new:
            return _new_match((template.id, template.text, True))
        match: Match = template.match
        return match

    def _clear_fast(self) -> None:
        """Empty the line memos (they are bounded)."""
        self._fast.clear()
        self._fast_kept.clear()
        self._kept_once.clear()

    def _route(self, text: str) -> tuple[_Template, bool]:
        """Find or create the group of a masked text never routed before; record its route."""
        tokens = text.split(" ")
        # `_leaf_key(tokens)` written out: this runs for every new masked text.
        first = tokens[0]
        kind = self._kinds.get(first)
        if kind is None:
            kind = self._kind(first)
        if kind == TokenKind.VALUE or kind == TokenKind.WILDCARD:
            first = WILDCARD
        leaf_key = (len(tokens), first)
        leaf = self._leaves.get(leaf_key)
        if leaf is None:
            leaf = self._leaves[leaf_key] = []
        is_new = False
        found = self._by_text.get(text)
        widens = False
        if found is None:
            found, widens = self._best(leaf, tokens)
        if found is not None:
            if widens:
                self._generalise(found, tokens)
                survivor = self._dedupe(found)
            else:
                survivor = found
        else:
            created = self._create(tokens, text, leaf)
            survivor = self._consolidate(created, leaf)
            is_new = survivor is created
        if len(self._routes) >= _ROUTE_LIMIT:
            self._routes.clear()
            self._clear_fast()
            self._joined_routes.clear()
        self._routes[text] = survivor
        return survivor, is_new

    def match(self, message: str) -> Match | None:
        """Return the group `message` would join, without learning anything; None if none."""
        text = self._masker.mask(message)
        routed = self._routes.get(text)
        found = routed.live() if routed is not None else self._by_text.get(text)
        if found is None:
            tokens = text.split(" ")
            found = self._best(self._leaves.get(self._leaf_key(tokens), []), tokens)[0]
        if found is None:
            return None
        return found.match

    def resolve(self, template_id: str) -> str:
        """Return the id of the group that `template_id` belongs to now (itself if still live)."""
        while template_id in self._aliases:
            template_id = self._aliases[template_id]
        return template_id

    def resolve_many(self, template_ids: Iterable[str]) -> list[str]:
        """Return `[self.resolve(i) for i in template_ids]`: each alias is resolved once."""
        ids = list(template_ids)
        if not self._aliases:
            return ids
        final = {alias: self.resolve(alias) for alias in self._aliases}
        return list(map(final.get, ids, ids))  # an id that is no alias stands for itself

    def template(self, template_id: str) -> str:
        """Return the current template text of the group `template_id` belongs to."""
        return self._templates[self.resolve(template_id)].text

    def templates(self) -> list[dict[str, Any]]:
        """Return the live templates, oldest first, as in `to_state`."""
        return [self._dump(t) for t in sorted(self._templates.values(), key=lambda t: t.seq)]

    def to_state(self) -> dict[str, Any]:
        """Return everything needed to carry on after a restart, as JSON-serialisable data."""
        return {
            "format": STATE_FORMAT,
            "similarity": self.similarity,
            "merge_after": self.merge_after,
            "templates": self.templates(),
            "aliases": dict(sorted(self._aliases.items())),
            "routes": {text: template.live().id for text, template in self._routes.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TemplateMiner:
        """Rebuild a miner from `to_state()` output; raise ValueError on anything else."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a template-miner state of format {STATE_FORMAT!r}")
        try:
            miner = cls(
                similarity=float(state["similarity"]), merge_after=int(state["merge_after"])
            )
            for row in state["templates"]:
                tokens = str(row["template"]).split()
                template = _Template(template_id=str(row["id"]), tokens=tokens, seq=miner._seq)
                miner._seq += 1
                template.count = int(row["count"])
                template.first_seen = _parse_time(row.get("first_seen"))
                template.last_seen = _parse_time(row.get("last_seen"))
                if template.id in miner._templates or template.text in miner._by_text:
                    raise ValueError(
                        f"duplicate template in state: {template.id} {template.text!r}"
                    )
                miner._templates[template.id] = template
                miner._by_text[template.text] = template
                miner._leaves.setdefault(miner._leaf_key(tokens), []).append(template)
            miner._aliases = {str(k): str(v) for k, v in state.get("aliases", {}).items()}
            for old, new in miner._aliases.items():
                if miner.resolve(new) not in miner._templates:
                    raise ValueError(f"alias {old} points to unknown template {new}")
            for text, template_id in state.get("routes", {}).items():
                live = miner._templates.get(miner.resolve(str(template_id)))
                if live is None:
                    raise ValueError(f"route {text!r} points to unknown template {template_id}")
                miner._routes[str(text)] = live
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed template-miner state: {exc!r}") from None
        return miner

    def _kind(self, token: str) -> int:
        kind = self._kinds.get(token)
        if kind is None:
            kind = token_kind(token)
            if len(self._kinds) >= _FAST_LIMIT:
                self._kinds.clear()
            self._kinds[token] = kind
        return kind

    # ---- grouping ---------------------------------------------------------------------------

    def _leaf_key(self, tokens: list[str]) -> tuple[int, str]:
        if not tokens:
            return (0, "")
        first = tokens[0]
        kind = self._kind(first)
        return (len(tokens), WILDCARD if kind in (TokenKind.VALUE, TokenKind.WILDCARD) else first)

    def _accepts(self, template: list[str], tokens: list[str]) -> tuple[int, bool]:
        """Return how many tokens are equal if `template` accepts `tokens` (else -1), and
        whether accepting them widens the template (two different values at a position)."""
        equal = 0
        loose = 0
        widens = False
        kinds = self._kinds
        for have, got in zip(template, tokens, strict=True):
            if have == got:
                equal += 1
            elif have == WILDCARD:
                loose += 1
            else:
                have_kind = kinds.get(have)
                if have_kind is None:
                    have_kind = self._kind(have)
                if have_kind != TokenKind.VALUE:
                    return -1, False
                got_kind = kinds.get(got)
                if got_kind is None:
                    got_kind = self._kind(got)
                if got_kind != TokenKind.VALUE and got_kind != TokenKind.WILDCARD:
                    return -1, False
                widens = True
        if equal + loose < self.similarity * len(tokens):
            return -1, False
        return equal, widens

    def _best(self, leaf: list[_Template], tokens: list[str]) -> tuple[_Template | None, bool]:
        """Return the template of `leaf` that accepts `tokens` best, and whether it widens.

        A template whose tokens other than `<*>` are all in `tokens` at their places accepts
        them without widening, with those tokens and the message's own `<*>` as the equal
        ones (a `<*>` of the message can only be equal at a `<*>` of the template): tested
        in C (`_literals`) before the loop of `_accepts`, which only a differing token needs.
        """
        best: _Template | None = None
        best_equal = -1
        best_widens = False
        wildcards = -1
        for template in leaf:
            literals = template.literals
            if literals is None:
                literals = template.literals = _literals(template.tokens)
            if literals[0](tokens) == literals[1]:
                if wildcards < 0:
                    wildcards = tokens.count(WILDCARD)
                equal, widens = literals[2] + wildcards, False
            else:
                equal, widens = self._accepts(template.tokens, tokens)
            if equal > best_equal:
                best, best_equal, best_widens = template, equal, widens
        return best, best_widens

    def _generalise(self, template: _Template, tokens: list[str]) -> None:
        merged = [
            have if have == got else WILDCARD
            for have, got in zip(template.tokens, tokens, strict=True)
        ]
        if merged != template.tokens:
            self._retext(template, merged)

    def _retext(self, template: _Template, tokens: list[str]) -> None:
        if self._by_text.get(template.text) is template:
            del self._by_text[template.text]
        template.tokens = tokens
        template.text = " ".join(tokens)
        template.match = _new_match((template.id, template.text, False))
        template.literals = None

    def _dedupe(self, template: _Template) -> _Template:
        """Index `template` by its text; if another template has the same text, merge them."""
        other = self._by_text.get(template.text)
        if other is None or other is template:
            self._by_text[template.text] = template
            return template
        return self._merge([template, other], template.tokens)

    def _create(self, tokens: list[str], text: str, leaf: list[_Template]) -> _Template:
        template_id = _template_id(text)
        suffix = 1
        while template_id in self._templates or template_id in self._aliases:
            # Only a hash collision gets here; the suffix keeps ids deterministic.
            suffix += 1
            template_id = f"{_template_id(text)}-{suffix}"
        template = _Template(template_id=template_id, tokens=tokens, seq=self._seq, text=text)
        self._seq += 1
        self._templates[template_id] = template
        self._by_text[text] = template
        leaf.append(template)
        return template

    def _consolidate(self, created: _Template, leaf: list[_Template]) -> _Template:
        """Merge `created` with its siblings that differ from it by a word at one position."""
        if len(leaf) < self.merge_after:
            return created
        kind = self._kind
        by_position: dict[int, list[_Template]] = {}
        for other in leaf:
            if other is created:
                continue
            position = -1
            for i, (have, got) in enumerate(zip(other.tokens, created.tokens, strict=True)):
                if have == got or WILDCARD in (have, got):
                    continue
                have_kind, got_kind = kind(have), kind(got)
                if have_kind == TokenKind.VALUE and got_kind == TokenKind.VALUE:
                    continue
                if TokenKind.CODE in (have_kind, got_kind) or position >= 0:
                    position = -2
                    break
                position = i
            if position >= 0:
                by_position.setdefault(position, []).append(other)
        for position in sorted(by_position):
            group = [created, *by_position[position]]
            if len({t.tokens[position] for t in group}) >= self.merge_after:
                merged = list(created.tokens)
                for other in group[1:]:
                    merged = [
                        a if a == b else WILDCARD for a, b in zip(merged, other.tokens, strict=True)
                    ]
                return self._merge(group, merged)
        return created

    def _merge(self, group: list[_Template], tokens: list[str]) -> _Template:
        """Fold `group` into its oldest member, whose template becomes `tokens`."""
        group = sorted(group, key=lambda t: t.seq)
        survivor = group[0]
        for other in group[1:]:
            survivor.count += other.count
            for at in (other.first_seen, other.last_seen):
                if at is not None:
                    if survivor.first_seen is None or at < survivor.first_seen:
                        survivor.first_seen = at
                    if survivor.last_seen is None or at > survivor.last_seen:
                        survivor.last_seen = at
            if self._by_text.get(other.text) is other:
                del self._by_text[other.text]
            del self._templates[other.id]
            self._aliases[other.id] = survivor.id
            other.merged_into = survivor
            self._leaves[self._leaf_key(other.tokens)].remove(other)
        self._retext(survivor, tokens)
        return self._dedupe(survivor)

    @staticmethod
    def _dump(template: _Template) -> dict[str, Any]:
        return {
            "id": template.id,
            "template": template.text,
            "count": template.count,
            "first_seen": template.first_seen.isoformat() if template.first_seen else None,
            "last_seen": template.last_seen.isoformat() if template.last_seen else None,
        }


def _parse_time(value: object) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value))


def mine_lines(
    lines: Iterable[str], *, similarity: float = 0.5, merge_after: int = 3
) -> Iterator[tuple[str, str]]:
    """Yield `(template_id, template)` for each line, in input order, after reading them all.

    The lines are read into memory and mined in a first pass; the second pass reports each
    line's group as it stands at the end of the input (ids resolved through merges, templates
    in their final, most general form), so every line of one group prints the same pair.
    Trailing newlines are ignored.
    """
    miner = TemplateMiner(similarity=similarity, merge_after=merge_after)
    matches = miner.add_many([line.rstrip("\r\n") for line in lines])
    texts = {template_id: template.text for template_id, template in miner._templates.items()}
    for final in miner.resolve_many(map(_TEMPLATE_ID, matches)):
        yield final, texts[final]


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Return the Loghub grouping accuracy of `predicted` group labels against `truth`.

    A line counts as correct when the set of lines in its predicted group is exactly the set
    of lines in its true group; the result is the share of correct lines (1.0 for no lines).
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels but {len(predicted)} predicted labels")
    if not truth:
        return 1.0
    true_sizes: dict[Hashable, int] = {}
    for label in truth:
        true_sizes[label] = true_sizes.get(label, 0) + 1
    members: dict[Hashable, list[Hashable]] = {}
    for true_label, predicted_label in zip(truth, predicted, strict=True):
        members.setdefault(predicted_label, []).append(true_label)
    correct = 0
    for labels in members.values():
        first = labels[0]
        if all(label == first for label in labels) and true_sizes[first] == len(labels):
            correct += len(labels)
    return correct / len(truth)
