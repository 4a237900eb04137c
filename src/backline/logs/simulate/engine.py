"""The event generator: portal requests and their upstream calls as JSON lines, in time order.

Speed matters (the store and the pattern miner are benchmarked on millions of events), so lines are
not built with ``json.dumps``: every constant part of a line is a JSON fragment built once (per
route, per patient, per call and station) and a line is one f-string joining fragments with the few
values that change per event (timestamp, ids, duration). Everything that goes into a fragment is
escaped with ``json.dumps`` when the fragment is built, so every line is valid JSON.

Determinism: all draws come from ``random.Random`` instances seeded from the config; nothing
iterates over a set of strings or reads the clock.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from math import log

from backline.logs.simulate.catalogue import (
    BACKGROUND_FAILURE_RATE,
    CLIENT_NAMES,
    CODE_DEFECT,
    GATEWAY_TIMEOUT_MS,
    ICN_MISMATCH,
    MEDIAN_LATENCY_MS,
    ROUTES,
    RX138_WRONG_ID,
    UPSTREAM_ERRORS,
    ErrorSpec,
)
from backline.logs.simulate.plan import EASTERN, Effect, Plan, ScenarioRequest
from backline.logs.simulate.population import Patient, seeded_rng

# Relative traffic by Eastern local hour (0-23) and the weekend damping: a daytime peak, a quiet night.
HOURLY_SHAPE: tuple[float, ...] = (
    0.22, 0.14, 0.10, 0.09, 0.11, 0.20, 0.42, 0.75, 1.15, 1.50, 1.70, 1.78,
    1.72, 1.70, 1.72, 1.62, 1.45, 1.28, 1.15, 1.05, 0.92, 0.72, 0.50, 0.32,
)  # fmt: skip
WEEKEND_FACTOR = 0.55
_WEEK_MEAN = sum(HOURLY_SHAPE) * (5 + 2 * WEEKEND_FACTOR) / (7 * 24)

HOSTS = tuple(f"vets-api-web-{i}" for i in range(8))
_LAT_BITS = 10  # 1024 pre-drawn latencies per upstream
_SORT_SHIFT = 21  # line index bits in a sort key; a batch holds fewer than 2**21 lines
_BATCH_LINES = 20_000


def traffic_factor(at: datetime) -> float:
    """Relative request rate at ``at`` (1.0 = the weekly mean)."""
    local = at.astimezone(EASTERN)
    weekend = WEEKEND_FACTOR if local.weekday() >= 5 else 1.0
    return HOURLY_SHAPE[local.hour] * weekend / _WEEK_MEAN


def _events_per_request() -> float:
    total = sum(r.weight for r in ROUTES)
    return sum(r.weight * (1 + len(r.calls)) for r in ROUTES) / total


def _level(status: int) -> str:
    return "error" if status >= 500 else "warn" if status >= 400 else "info"


def _q(text: str) -> str:
    """``text`` as a JSON string literal."""
    return json.dumps(text)


@dataclass(frozen=True)
class _RoutePlan:
    """A route as patients of one shape (station, credential, account state) see it.

    ``calls`` holds the prebuilt success fragments, or None when the route's endpoints carry a
    per-request id and must be built each time. ``cdf`` is the cumulative probability, given that
    the request fails in the background, that call ``i`` is the first to fail (the last slot is a
    failure inside the portal).
    """

    fail_p: float
    cdf: tuple[float, ...]
    calls: tuple[tuple[str, str, list[int], int], ...] | None
    head: str
    tail: str
    payload_kind: int  # 0 /v0/user, 1 medical records, 2 other
    payload: str  # the request payload without patient data


class _Generator:
    """Holds the fragment caches and random streams for one run over one plan."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.patients = plan.patients
        seed = plan.config.seed
        self.rng = seeded_rng(seed, "traffic")
        lat_rng = seeded_rng(seed, "latency")
        self.latency: dict[str, list[int]] = {
            up: [
                max(1, round(med * lat_rng.lognormvariate(0.0, 0.55)))
                for _ in range(1 << _LAT_BITS)
            ]
            for up, med in MEDIAN_LATENCY_MS.items()
        }
        self.overhead = [
            max(2, round(28 * lat_rng.lognormvariate(0.0, 0.5))) for _ in range(1 << _LAT_BITS)
        ]
        self.user_tags = [
            f'"remote_ip":{_q(p.remote_ip)},"user_agent":{_q(p.user_agent)}' for p in self.patients
        ]
        self.user_attrs = [self._attrs(p, p) for p in self.patients]
        self.pay_icn = [f'{{"icn":{_q(p.icn)}}}' for p in self.patients]
        self.pay_mhv = [
            f'{{"mhv_correlation_id":{_q(p.mhv_correlation_id)}}}' for p in self.patients
        ]
        self.pay_email = [f'{{"email":{_q(p.email)}}}' for p in self.patients]
        # Indexed by a call's payload kind: 0 MHV API, 1 EHR and MPI, 2 sign-in providers.
        self.user_pays = list(zip(self.pay_mhv, self.pay_icn, self.pay_email, strict=True))
        self.user_route_payload = [
            f'{{"controller":"{ROUTES[0].controller}","mhv_account_state":'
            f'"{p.mhv_account_state}","mhv_correlation_id":"{p.mhv_correlation_id}"}}'
            for p in self.patients
        ]
        self.plan_cache: dict[tuple[str, str, bool], list[_RoutePlan]] = {}
        self.keys: list[int] = []
        self.out: list[str] = []
        self.sha = ""
        self.vtail = ""
        self.call_cache: dict[tuple[int, int, str, str], tuple[str, str]] = {}
        self.request_ok: list[tuple[str, str]] = [
            (
                f'"status":"info","name":"Rails","message":'
                f"{_q(f'Completed {r.method} {r.path} 200 OK')}",
                f'"http":{{"method":"{r.method}","url_details":{{"path":{_q(r.path)}}},'
                '"status_code":200}',
            )
            for r in ROUTES
        ]
        self.ts_cache: dict[int, str] = {}
        # Activity-weighted user table: an index drawn with getrandbits is a weighted user pick.
        bits = max(12, math.ceil(math.log2(len(self.patients) * 8)))
        self.user_bits = bits
        self.user_table = self._weighted_table([p.activity for p in self.patients], 1 << bits)
        self.route_table = self._weighted_table([r.weight for r in ROUTES], 1 << 10)
        self.route_ehr = [any(c.upstream == "ehr" for c in r.calls) for r in ROUTES]

    @staticmethod
    def _weighted_table(weights: list[float], size: int) -> list[int]:
        total = sum(weights)
        table: list[int] = []
        acc = 0.0
        for i, w in enumerate(weights):
            acc += w
            table.extend([i] * (round(acc / total * size) - len(table)))
        table.extend([len(weights) - 1] * (size - len(table)))
        return table

    @staticmethod
    def _attrs(p: Patient, records_of: Patient) -> str:
        return (
            f'"user_uuid":{_q(p.user_uuid)},"facility":{_q(records_of.facility)},'
            f'"data_source_system":"{records_of.data_source_system}"'
        )

    def ts(self, t: int) -> str:
        sec = t // 1000
        prefix = self.ts_cache.get(sec) or self.ts_prefix(sec)
        return f"{prefix}{t - sec * 1000:03d}Z"

    def ts_prefix(self, sec: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS.`` for a Unix second, cached (a batch spans few seconds)."""
        if len(self.ts_cache) > 100_000:
            self.ts_cache.clear()
        prefix = datetime.fromtimestamp(sec, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        self.ts_cache[sec] = prefix
        return prefix

    def call_fragments(
        self, ri: int, ci: int, upstream: str, station: str, rx_id: int
    ) -> tuple[str, str, str]:
        """(head, tail, endpoint) for a successful call; cached unless the endpoint has an id."""
        call = ROUTES[ri].calls[ci]
        template = call.endpoint
        if call.upstream in ("ehr", "credential"):
            first, second = template.split("|")
            template = first if upstream in ("vista", "idme") else second
        dynamic = "{rx_id}" in template
        key = (ri, ci, upstream, station)
        if not dynamic:
            hit = self.call_cache.get(key)
            if hit is not None:
                return hit[0], hit[1], ""
        endpoint = template.format(station=station, rx_id=rx_id)
        head = (
            f'"status":"info","name":"{CLIENT_NAMES[upstream]}","message":'
            f"{_q(f'{upstream} {call.method} {endpoint} success 200')}"
        )
        tail = (
            f'"http":{{"method":"{call.method}","url_details":{{"path":{_q(endpoint)}}},'
            f'"status_code":200}},"upstream":"{upstream}","upstream_endpoint":{_q(endpoint)},'
            f'"upstream_outcome":"success","route":{_q(ROUTES[ri].path)}'
        )
        if not dynamic:
            self.call_cache[key] = (head, tail)
        return head, tail, endpoint

    def failed_call(
        self, ri: int, ci: int, upstream: str, endpoint: str, err: ErrorSpec, message: str
    ) -> tuple[str, str]:
        call = ROUTES[ri].calls[ci]
        head = (
            f'"status":"{_level(err.status)}","name":"{CLIENT_NAMES[upstream]}",'
            f'"message":{_q(message)}'
        )
        tail = (
            f'"http":{{"method":"{call.method}","url_details":{{"path":{_q(endpoint)}}},'
            f'"status_code":{err.status}}},"upstream":"{upstream}",'
            f'"upstream_endpoint":{_q(endpoint)},"upstream_outcome":"failed",'
            f'"error_code":{_q(err.code)},"route":{_q(ROUTES[ri].path)}'
        )
        return head, tail

    def route_plans(self, p: Patient) -> list[_RoutePlan]:
        """The per-route plans for patients shaped like ``p`` (station, credential, account)."""
        key = (p.facility, p.credential, p.mhv_account_state == "NONE")
        plans = self.plan_cache.get(key)
        if plans is None:
            plans = [self._route_plan(ri, p) for ri in range(len(ROUTES))]
            self.plan_cache[key] = plans
        return plans

    def _route_plan(self, ri: int, p: Patient) -> _RoutePlan:
        route = ROUTES[ri]
        rates: list[float] = []
        calls: list[tuple[str, str, list[int], int]] = []
        static = "{" not in route.path
        for ci, call in enumerate(route.calls):
            up = call.upstream
            if up == "ehr":
                up = p.data_source_system.lower()
            elif up == "credential":
                up = p.credential
            rate = BACKGROUND_FAILURE_RATE[up]
            if call.none_account_failure_rate and p.mhv_account_state == "NONE":
                rate = call.none_account_failure_rate
            rates.append(rate)
            if static:
                head, tail, _ = self.call_fragments(ri, ci, up, p.facility, 0)
                pay = 0 if up == "mhv_api" else 2 if up in ("idme", "logingov") else 1
                calls.append((head, tail, self.latency[up], pay))
        rates.append(route.portal_error_rate)
        # P(first failure is at slot i) / P(any failure), as a cumulative table.
        survive = 1.0
        first: list[float] = []
        for rate in rates:
            first.append(survive * rate)
            survive *= 1.0 - rate
        fail_p = 1.0 - survive
        cdf: list[float] = []
        acc = 0.0
        for f in first:
            acc += f / fail_p if fail_p > 0 else 0.0
            cdf.append(acc)
        head, tail = self.request_ok[ri]
        return _RoutePlan(
            fail_p=fail_p,
            cdf=tuple(cdf),
            calls=tuple(calls) if static else None,
            head=head,
            tail=tail,
            payload_kind=0 if ri == 0 else 1 if route.area == "medical_records" else 2,
            payload=f'{{"controller":"{route.controller}"}}',
        )

    def lines(self) -> Iterator[list[str]]:
        """Batches of JSON lines, globally in timestamp order."""
        plan = self.plan
        rng = self.rng
        bits = rng.getrandbits
        rand = rng.random
        user_table, user_bits = self.user_table, self.user_bits
        route_table = self.route_table
        start_ms, end_ms = plan.start_ms, plan.end_ms
        requests_per_ms = plan.config.events_per_second / _events_per_request() / 1000.0
        scenario_requests = [*plan.requests, ScenarioRequest(end_ms * 2, 0, 0, 0)]  # sentinel
        si = 0
        next_scenario = scenario_requests[0].t_ms
        versions = plan.versions
        vi = 0
        next_deploy = versions[1][0] if len(versions) > 1 else end_ms * 2
        self.sha = versions[0][1]
        self.vtail = f',"version":"{self.sha}"}}'
        emit = self.request
        fast = self.fast_request()
        out = self.out
        user_plans = [self.route_plans(p) for p in self.patients]
        # Patients with a scenario effect active right now take the general path; the set changes
        # only at effect window boundaries.
        boundaries = sorted(
            {e.start_ms for es in plan.effects.values() for e in es}
            | {e.end_ms for es in plan.effects.values() for e in es}
            | {end_ms * 2}
        )
        bi = 0
        next_boundary = boundaries[0]
        affected_now: set[int] = set()

        t = float(start_ms)
        hour_end = start_ms
        mean_gap = 0.0
        while True:
            if t >= hour_end:
                # Piecewise-constant rate per UTC hour (Eastern hours start on UTC hours);
                # restarting the exponential clock at each boundary is exact for a Poisson process.
                t = float(hour_end)
                if hour_end >= end_ms:
                    break
                lam = requests_per_ms * traffic_factor(datetime.fromtimestamp(t / 1000, tz=UTC))
                mean_gap = 1.0 / lam
                hour_end = min(end_ms, (int(t) // 3_600_000 + 1) * 3_600_000)
            # expovariate, inlined: this line runs once per request.
            t -= log(1.0 - rand()) * mean_gap
            if t >= hour_end:
                continue
            now = int(t)
            while next_scenario <= now:
                sreq = scenario_requests[si]
                si += 1
                next_scenario = scenario_requests[si].t_ms
                while next_deploy <= sreq.t_ms:
                    vi += 1
                    next_deploy = self.deploy(vi)
                emit(sreq.t_ms, sreq.user, sreq.route, sreq)
            while next_deploy <= now:
                vi += 1
                next_deploy = self.deploy(vi)
            while next_boundary <= now:
                bi += 1
                next_boundary = boundaries[bi]
                affected_now = {
                    u
                    for u, es in plan.effects.items()
                    if any(e.start_ms <= now < e.end_ms for e in es)
                }
            u = user_table[bits(user_bits)]
            ri = route_table[bits(10)]
            rp = user_plans[u][ri]
            r = rand()
            if r < rp.fail_p:
                emit(now, u, ri, None, bisect_right(rp.cdf, r / rp.fail_p))
            elif rp.calls is None or u in affected_now:
                emit(now, u, ri, None)
            else:
                fast(now, u, rp)
            if len(out) >= _BATCH_LINES:
                yield self.flush(now)
        for sreq in scenario_requests[si:-1]:
            while next_deploy <= sreq.t_ms:
                vi += 1
                next_deploy = self.deploy(vi)
            emit(sreq.t_ms, sreq.user, sreq.route, sreq)
        while next_deploy < end_ms:
            vi += 1
            next_deploy = self.deploy(vi)
        yield self.flush(None)

    def fast_request(self) -> Callable[[int, int, _RoutePlan], None]:
        """The common case, kept lean: no failure, no scenario effect, no per-request endpoint.

        A closure over everything it reads, so the hot loop does no attribute look-ups; the lines
        and keys lists it appends to are only ever changed in place.
        """
        bits = self.rng.getrandbits
        hosts = tuple(f'"service":"vets-api","env":"production","host":"{h}",' for h in HOSTS)
        user_tags = self.user_tags
        user_posts = [f',{a},"payload":' for a in self.user_attrs]
        user_pays = self.user_pays
        user_route_payload = self.user_route_payload
        icns = [p.icn for p in self.patients]
        overhead = self.overhead
        tsc = self.ts_cache
        ts_prefix = self.ts_prefix
        keys_append = self.keys.append
        out = self.out
        out_append = out.append
        gen = self

        def fast(t0: int, u: int, rp: _RoutePlan) -> None:
            h = f"{bits(128):032x}"
            sha = gen.sha
            mid = (
                f'"named_tags":{{"request_id":"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}",'
                f'{user_tags[u]},"ref":"{sha}"}},"dd":{{"trace_id":"{bits(63)}"}},'
            )
            pre = hosts[bits(3)]
            post = user_posts[u]
            vtail = gen.vtail
            pays = user_pays[u]
            t = t0 + overhead[bits(_LAT_BITS)] // 2
            for head, tail, lat, pay in rp.calls:  # type: ignore[union-attr]
                dur = lat[bits(_LAT_BITS)]
                t += dur
                sec = t // 1000
                keys_append((t << _SORT_SHIFT) | len(out))
                out_append(
                    f'{{"timestamp":"{tsc.get(sec) or ts_prefix(sec)}{t - sec * 1000:03d}Z",'
                    f'{pre}{head},{mid}{tail},"duration_ms":{dur}{post}{pays[pay]}{vtail}'
                )
            t += overhead[bits(_LAT_BITS)] // 2 + 1
            kind = rp.payload_kind
            if kind == 2:
                payload = rp.payload
            elif kind == 1:
                payload = f'{rp.payload[:-1]},"icn":"{icns[u]}"}}'
            else:
                payload = user_route_payload[u]
            sec = t // 1000
            keys_append((t << _SORT_SHIFT) | len(out))
            out_append(
                f'{{"timestamp":"{tsc.get(sec) or ts_prefix(sec)}{t - sec * 1000:03d}Z",'
                f'{pre}{rp.head},{mid}{rp.tail},"duration_ms":{t - t0}{post}{payload}{vtail}'
            )

        return fast

    def flush(self, before: int | None) -> list[str]:
        """Sorted lines with timestamp < ``before`` (all when None); the rest wait for later.

        Every later request starts at or after ``before`` and its events are no earlier than its
        start, so nothing still to come can sort before the lines returned here.
        """
        keys, out = self.keys, self.out
        keys.sort()
        mask = (1 << _SORT_SHIFT) - 1
        if before is None:
            cut = len(keys)
        else:
            limit = before << _SORT_SHIFT
            lo, hi = 0, len(keys)
            while lo < hi:
                mid = (lo + hi) // 2
                if keys[mid] < limit:
                    lo = mid + 1
                else:
                    hi = mid
            cut = lo
        ready = [out[k & mask] for k in keys[:cut]]
        rest = keys[cut:]
        # In place: the fast path holds references to these two lists.
        out[:] = [out[k & mask] for k in rest]
        keys[:] = [((k >> _SORT_SHIFT) << _SORT_SHIFT) | i for i, k in enumerate(rest)]
        return ready

    def add(self, t: int, line: str) -> None:
        self.keys.append((t << _SORT_SHIFT) | len(self.out))
        self.out.append(line)

    def deploy(self, vi: int) -> int:
        """Switch to version ``vi``, log the deploy, return when the next deploy happens."""
        versions = self.plan.versions
        at, sha = versions[vi]
        previous = self.sha
        self.sha = sha
        self.vtail = f',"version":"{sha}"}}'
        self.add(
            at,
            f'{{"timestamp":"{self.ts(at)}","service":"vets-api","env":"production",'
            f'"host":"deploy","status":"info","name":"Deploy","message":"Deployed vets-api ref '
            f'{sha} (previous {previous})","named_tags":{{"ref":"{sha}"}},"version":"{sha}"}}',
        )
        return versions[vi + 1][0] if vi + 1 < len(versions) else self.plan.end_ms + 1

    def request(
        self, t0: int, u: int, ri: int, sreq: ScenarioRequest | None, fail_at: int = -1
    ) -> None:
        """Emit one portal request: its outbound calls, then its completion event.

        ``fail_at`` is the background failure drawn for it: the index of the call that fails,
        ``len(calls)`` for a failure inside the portal, -1 for none. Scenario effects apply on top.
        """
        active: list[Effect] | None = None
        effects = self.plan.effects.get(u)
        if effects is not None:
            active = [e for e in effects if e.start_ms <= t0 < e.end_ms] or None
            if active and sreq is None and any(e.kind == "suppress" for e in active):
                return  # the patient cannot sign in, so makes no other requests
        rng = self.rng
        rand = rng.random
        bits = rng.getrandbits
        p = self.patients[u]
        route = ROUTES[ri]
        records = p
        utags = self.user_tags[u]
        h = f"{bits(128):032x}"
        if sreq is not None and sreq.read_patient >= 0:
            records = self.patients[sreq.read_patient]
            utags = f'"remote_ip":{_q(sreq.remote_ip)},"user_agent":{_q(p.user_agent)}'
            h = sreq.request_id_prefix + h[8:]
        rid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        host = f'"host":"{HOSTS[bits(3)]}"'
        mid = f'"named_tags":{{"request_id":"{rid}",{utags},"ref":"{self.sha}"}},"dd":{{"trace_id":"{bits(63)}"}},'
        uattrs = self.user_attrs[u] if records is p else self._attrs(p, records)
        vtail = self.vtail
        ts = self.ts
        add = self.add
        rx_id = p.prescription_ids[bits(8) % len(p.prescription_ids)]
        ehr = "oracle_health" if records.oracle_health else "vista"
        t = t0 + self.overhead[bits(_LAT_BITS)] // 2
        failure: ErrorSpec | None = None
        fail_message = ""
        passthrough_from = ""
        passthrough_ms = 0
        for ci, call in enumerate(route.calls):
            up = call.upstream
            if up == "ehr":
                up = ehr
            elif up == "credential":
                up = p.credential
            dur = self.latency[up][bits(_LAT_BITS)]
            err: ErrorSpec | None = None
            mhv_id = p.mhv_correlation_id
            if passthrough_from:
                err = route.passthrough
                dur = passthrough_ms + dur // 4
            elif ci == fail_at:
                choices = call.errors or UPSTREAM_ERRORS[up]
                err = rng.choices(choices, [e.weight for e in choices])[0]
            other_icn = ""
            if active and not passthrough_from:
                for e in active:
                    kind = e.kind
                    if kind == "vista_down" and up == "vista":
                        err = UPSTREAM_ERRORS["vista"][0 if rand() < 0.75 else 1]
                    elif kind == "oh_slow" and up == "oracle_health":
                        dur = int(dur * e.factor)
                        if rand() < e.timeout_p:
                            err = UPSTREAM_ERRORS["oracle_health"][1]
                    elif kind == "rx_wrong_id" and ri == e.route and up == "mhv_api":
                        err, mhv_id = RX138_WRONG_ID, e.value
                    elif kind == "icn_mismatch" and up == "mpi" and route.key == "signin":
                        err, other_icn = ICN_MISMATCH, e.value
            if err is not None and err.timeout:
                dur = GATEWAY_TIMEOUT_MS + bits(9)
            t += dur
            if err is None:
                head, tail, _ = self.call_fragments(ri, ci, up, records.facility, rx_id)
            else:
                _, _, endpoint = self.call_fragments(ri, ci, up, records.facility, rx_id)
                if not endpoint:
                    endpoint = self._endpoint(ri, ci, up, records.facility, rx_id)
                system = "Oracle Health" if passthrough_from == "oracle_health" else "VistA"
                fail_message = err.message.format(
                    icn=records.icn,
                    other_icn=other_icn,
                    email=p.email,
                    station=records.facility,
                    mhv_id=mhv_id,
                    rx_id=rx_id,
                    system=system,
                    endpoint=endpoint,
                    controller=route.controller,
                )
                head, tail = self.failed_call(ri, ci, up, endpoint, err, fail_message)
            if up == "mhv_api":
                payload = f'{{"mhv_correlation_id":"{mhv_id}"}}' if err else self.pay_mhv[u]
            elif up in ("idme", "logingov"):
                payload = self.pay_email[u]
            elif records is p:
                payload = self.pay_icn[u]
            else:
                payload = f'{{"icn":"{records.icn}"}}'
            add(
                t,
                f'{{"timestamp":"{ts(t)}","service":"vets-api","env":"production",{host},'
                f'{head},{mid}{tail},"duration_ms":{dur},{uattrs},"payload":{payload}{vtail}',
            )
            if err is not None:
                failure = err
                if route.passthrough is not None and up in ("vista", "oracle_health"):
                    passthrough_from, passthrough_ms = up, dur
                    continue
                break
        if failure is None and route.portal_error is not None and fail_at == len(route.calls):
            failure = route.portal_error
            fail_message = failure.message.format(email=p.email)
        if failure is None and active:
            for e in active:
                if e.kind == "code_bug" and e.route == ri:
                    failure = CODE_DEFECT
                    fail_message = CODE_DEFECT.message.format(controller=route.controller)
        t += self.overhead[bits(_LAT_BITS)] // 2 + 1
        if ri == 0:
            payload = (
                f'{{"controller":"{route.controller}","mhv_account_state":'
                f'"{p.mhv_account_state}","mhv_correlation_id":"{p.mhv_correlation_id}"}}'
            )
        elif route.area == "medical_records":
            payload = f'{{"controller":"{route.controller}","icn":"{records.icn}"}}'
        else:
            payload = f'{{"controller":"{route.controller}"}}'
        path = route.path.replace("{rx_id}", str(rx_id)) if "{" in route.path else ""
        if failure is None:
            head, tail = self.request_ok[ri]
            if path:
                tail = tail.replace(route.path, path)
        else:
            shown = path or route.path
            head = (
                f'"status":"{_level(failure.status)}","name":"Rails","message":{_q(fail_message)}'
            )
            tail = (
                f'"http":{{"method":"{route.method}","url_details":{{"path":{_q(shown)}}},'
                f'"status_code":{failure.status}}},"error_code":{_q(failure.code)}'
            )
        add(
            t,
            f'{{"timestamp":"{ts(t)}","service":"vets-api","env":"production",{host},'
            f'{head},{mid}{tail},"duration_ms":{t - t0},{uattrs},"payload":{payload}{vtail}',
        )

    def _endpoint(self, ri: int, ci: int, upstream: str, station: str, rx_id: int) -> str:
        template = ROUTES[ri].calls[ci].endpoint
        if "|" in template:
            first, second = template.split("|")
            template = first if upstream in ("vista", "idme") else second
        return template.format(station=station, rx_id=rx_id)


def generate_lines(plan: Plan) -> Iterator[list[str]]:
    """Batches of JSON lines (no newline) for ``plan``, in timestamp order."""
    return _Generator(plan).lines()
