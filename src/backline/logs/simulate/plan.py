"""Everything decided before the first event is written: patients, deploys, resolved scenarios.

Scenarios are resolved up front into *effects* (what changes for which patient, when) and
*scenario requests* (the extra traffic the affected patients make: retries, the suspicious
session). Because the affected patients are fixed here and each one gets scenario traffic inside the
window, the ground truth (``manifest``) and the ticket seeds are known without generating any
events, and they match the events exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backline.logs.simulate.catalogue import (
    CODE_DEFECT,
    ROUTE_BY_PATH,
    ROUTE_INDEX,
    ROUTES,
)
from backline.logs.simulate.population import (
    ORACLE_HEALTH_SITES,
    Patient,
    build_population,
    random_icn,
    seeded_rng,
)
from backline.logs.simulate.types import (
    ScenarioSpec,
    ScenarioTruth,
    SimulationConfig,
    TicketSeed,
)

EASTERN = ZoneInfo("America/New_York")

DEFAULT_DURATION: dict[str, timedelta] = {
    "signin_icn_mismatch": timedelta(minutes=90),
    "pharmacy_wrong_mhv_id": timedelta(hours=8),
    "vista_station_outage": timedelta(hours=2),
    "oracle_health_latency": timedelta(hours=3),
    "deploy_new_error": timedelta(hours=30),
    "security_session_reads_many": timedelta(minutes=40),
}
DEPLOY_BUG_PATHS = (
    "/my_health/v1/messaging/folders",
    "/my_health/v1/messaging/threads",
    "/my_health/v1/prescriptions",
)
VISTA_ROUTES = tuple(
    i
    for i, r in enumerate(ROUTES)
    if r.area in ("medications", "medical_records") and "{" not in r.path
)
MR_ROUTES = tuple(i for i, r in enumerate(ROUTES) if r.area == "medical_records")


@dataclass(frozen=True)
class Effect:
    """A change to one patient's traffic inside ``[start_ms, end_ms)``.

    kinds: ``suppress`` (no background requests: the patient cannot sign in), ``icn_mismatch``,
    ``rx_wrong_id``, ``vista_down``, ``oh_slow``, ``code_bug`` (route ``route``).
    """

    kind: str
    start_ms: int
    end_ms: int
    route: int = -1
    factor: float = 1.0
    timeout_p: float = 0.0
    value: str = ""


@dataclass(frozen=True, order=True)
class ScenarioRequest:
    """One request a scenario adds. ``read_patient`` >= 0 makes a medical-records request return
    that other patient's records (the security scenario)."""

    t_ms: int
    seq: int
    user: int
    route: int
    read_patient: int = -1
    remote_ip: str = ""
    request_id_prefix: str = ""


@dataclass
class Plan:
    """The resolved world one config describes."""

    config: SimulationConfig
    patients: list[Patient]
    start_ms: int
    end_ms: int
    versions: list[tuple[int, str]]  # (from ms, git SHA), sorted; the first starts at start_ms
    truths: list[ScenarioTruth] = field(default_factory=list)
    tickets: list[TicketSeed] = field(default_factory=list)
    effects: dict[int, list[Effect]] = field(default_factory=dict)
    requests: list[ScenarioRequest] = field(default_factory=list)


def to_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _iso(ms: int) -> str:
    return from_ms(ms).isoformat().replace("+00:00", "Z")


class _Planner:
    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.rng = seeded_rng(config.seed, "population")
        self.patients = build_population(self.rng, config.users)
        self.start_ms = to_ms(config.start)
        self.end_ms = to_ms(config.end)
        self.claimed: set[int] = set()  # patients already the subject of a scenario
        self.effects: dict[int, list[Effect]] = {}
        self.requests: list[ScenarioRequest] = []
        self.truths: list[ScenarioTruth] = []
        self.tickets: list[TicketSeed] = []
        self.scenario_deploys: list[tuple[int, int, str]] = []  # (start, end, sha)
        self.seq = 0

    # -- helpers -------------------------------------------------------------------------------

    def window(self, spec: ScenarioSpec, rng: random.Random) -> tuple[int, int]:
        span = self.end_ms - self.start_ms
        duration = spec.duration or DEFAULT_DURATION[spec.name]
        dur_ms = min(int(duration.total_seconds() * 1000), int(span * 0.6))
        latest = self.end_ms - dur_ms
        if spec.start is not None:
            start = to_ms(spec.start)
            if not self.start_ms <= start < self.end_ms:
                raise ValueError(f"scenario {spec.name}: start is outside the simulated period")
            return start, min(start + dur_ms, self.end_ms)
        # Most real incidents are noticed in working hours: aim for a weekday late morning, Eastern.
        guess = from_ms(self.start_ms + int(span * rng.uniform(0.15, 0.6))).astimezone(EASTERN)
        while guess.weekday() >= 5 and to_ms(guess) + 86_400_000 < latest:
            guess += timedelta(days=1)
        guess = guess.replace(hour=rng.randint(10, 14), minute=rng.randrange(60), second=0)
        start = min(max(to_ms(guess), self.start_ms), latest)
        return start, start + dur_ms

    def pick_user(self, rng: random.Random, spec: ScenarioSpec, want_state: str = "") -> int:
        if spec.target is not None:
            for p in self.patients:
                if p.user_uuid == spec.target:
                    return p.index
            raise ValueError(f"scenario {spec.name}: no simulated user with uuid {spec.target}")
        candidates = [
            p.index
            for p in self.patients
            if p.index not in self.claimed
            and (p.mhv_account_state == want_state if want_state else p.mhv_account_state == "OK")
        ]
        if not candidates:
            candidates = [p.index for p in self.patients if p.index not in self.claimed]
        if not candidates:
            raise ValueError(f"scenario {spec.name}: every simulated user is already in a scenario")
        return rng.choice(candidates)

    def add_effect(self, user: int, effect: Effect) -> None:
        self.effects.setdefault(user, []).append(effect)

    def add_request(self, t_ms: int, user: int, route: int, **extra: object) -> None:
        self.seq += 1
        self.requests.append(ScenarioRequest(t_ms, self.seq, user, route, **extra))  # type: ignore[arg-type]

    def spread(self, rng: random.Random, start: int, end: int, n: int) -> list[int]:
        """``n`` sorted instants in the window, the first soon after it opens."""
        first = start + int(rng.uniform(0.0, 0.1) * (end - start))
        return sorted([first, *(rng.randrange(start, end) for _ in range(n - 1))])

    def ticket_base(
        self, rng: random.Random, name: str, patient: Patient, start: int, end: int
    ) -> dict[str, object]:
        return {
            "scenario": name,
            # Tier 2 escalates an hour or two after the patient first calls the help desk.
            "reported_at": _iso(start + rng.randrange(45, 180) * 60_000),
            "affected_user_id": patient.user_uuid,
            "occurred_at": _iso(start),
            "occurred_until": _iso(end),
            "device": patient.device,
            "browser": patient.browser,
            "os": patient.os,
            "credential": patient.credential,
            "oracle_health_site": patient.oracle_health,
            "external_refs": [f"HRC-HD-Y4-{rng.randrange(10**10):010d}"],
        }

    # -- cohort scenarios (resolved first so user scenarios avoid their patients) ---------------

    def vista_station_outage(self, spec: ScenarioSpec, rng: random.Random) -> None:
        start, end = self.window(spec, rng)
        by_station: dict[str, list[int]] = {}
        for p in self.patients:
            if not p.oracle_health and p.index not in self.claimed:
                by_station.setdefault(p.facility, []).append(p.index)
        if spec.target is not None:
            station = spec.target
            if station in ORACLE_HEALTH_SITES or station not in by_station:
                raise ValueError(
                    f"scenario {spec.name}: {station} is not a VistA station with patients"
                )
        else:
            # A busy station, so the outage is visible; ties broken by the seed.
            ranked = sorted(by_station, key=lambda s: (-len(by_station[s]), s))[:5]
            station = rng.choice(ranked)
        cohort = by_station[station]
        retries = max(1, round(2 * spec.intensity))
        for u in cohort:
            self.claimed.add(u)
            self.add_effect(u, Effect("vista_down", start, end))
            for t in self.spread(rng, start, end, retries):
                self.add_request(t, u, rng.choice(VISTA_ROUTES))
        reporter = self.patients[cohort[0]]
        uuids = tuple(sorted(self.patients[u].user_uuid for u in cohort))
        signature = f"VistA station {station} returned 503 Service Unavailable"
        self.truths.append(
            ScenarioTruth(
                name=spec.name,
                start=from_ms(start),
                end=from_ms(end),
                affected_user_uuids=uuids,
                error_code="503",
                signature=signature,
                upstream="vista",
                target=station,
                root_cause=f"VistA at station {station} is down: every call to it fails with 503 "
                "or times out (504), so prescriptions and medical records fail for all of its "
                "patients while other stations work.",
                root_cause_kind="upstream",
                escalation="monitoring",
                rationale="Many users at one facility, one upstream, errors start together: a "
                "system problem for the monitoring on-call (who engages the VistA team), not a "
                "single-user fix.",
                details={"station": station, "patients": len(cohort), "also_error_code": "504"},
            )
        )
        ticket: dict[str, object] = self.ticket_base(rng, spec.name, reporter, start, end)
        ticket |= {
            "title": 'RX - "We can\'t access your medications right now" for patients at '
            f"station {station}",
            "description": "Veteran reports the medications page shows \"We can't access your "
            'medications right now" and medical records will not load. Tier 2 received '
            f"similar calls from other patients at station {station} the same morning.",
            "priority": "high",
            "area": "medications",
            "suspected_upstream": "vista",
            "url": "https://www.va.gov/my-health/medications/",
            "steps_to_reproduce": "1. Sign in. 2. Open Medications. 3. Open Medical records > "
            "Allergies.",
            "expected_behaviour": "The medications list and allergies load.",
            "actual_behaviour": "Error banner on both pages; retrying does not help.",
            "troubleshooting_steps": [
                "Tier 1: cleared cache and cookies, tried another browser",
                "Tier 2: confirmed the account is in good standing (MHV account OK)",
                f"Tier 2: three other callers from station {station} report the same error",
            ],
            "entry_criterion": "multiple_users",
        }
        self.tickets.append(ticket)  # type: ignore[arg-type]

    def oracle_health_latency(self, spec: ScenarioSpec, rng: random.Random) -> None:
        start, end = self.window(spec, rng)
        by_site: dict[str, list[int]] = {}
        for p in self.patients:
            if p.oracle_health and p.index not in self.claimed:
                by_site.setdefault(p.facility, []).append(p.index)
        if not by_site:
            raise ValueError(f"scenario {spec.name}: no Oracle Health patients to slow down")
        if spec.target == "all":
            sites = sorted(by_site)
        elif spec.target is not None:
            if spec.target not in by_site:
                raise ValueError(
                    f"scenario {spec.name}: {spec.target} is not an Oracle Health site"
                )
            sites = [spec.target]
        else:
            sites = [rng.choice(sorted(by_site, key=lambda s: (-len(by_site[s]), s))[:3])]
        cohort = sorted(u for s in sites for u in by_site[s])
        timeout_p = min(0.6, 0.15 * spec.intensity)
        retries = max(1, round(1.5 * spec.intensity))
        for u in cohort:
            self.claimed.add(u)
            factor = rng.uniform(5.0, 10.0) * spec.intensity
            self.add_effect(u, Effect("oh_slow", start, end, factor=factor, timeout_p=timeout_p))
            for t in self.spread(rng, start, end, retries):
                self.add_request(t, u, rng.choice(VISTA_ROUTES))
        reporter = self.patients[cohort[0]]
        where = ", ".join(sites)
        self.truths.append(
            ScenarioTruth(
                name=spec.name,
                start=from_ms(start),
                end=from_ms(end),
                affected_user_uuids=tuple(sorted(self.patients[u].user_uuid for u in cohort)),
                error_code="504",
                signature="Gateway timeout: Oracle Health FHIR API",
                upstream="oracle_health",
                target=spec.target or sites[0],
                root_cause=f"Oracle Health latency regression for site {where}: calls take 5-10x "
                "their usual time and some exceed the 15 s gateway timeout.",
                root_cause_kind="upstream",
                escalation="monitoring",
                rationale="A whole cohort (every patient of the Oracle Health site) is degraded, "
                "not down; durations, not one user's data, changed. Monitoring owns degraded "
                "upstreams and the partner contact.",
                details={
                    "sites": sites,
                    "latency_factor": "5-10",
                    "timeout_probability": round(timeout_p, 3),
                },
            )
        )
        ticket: dict[str, object] = self.ticket_base(rng, spec.name, reporter, start, end)
        ticket |= {
            "title": f"MR - Medical records very slow or timing out (Oracle Health site {where})",
            "description": "Veteran at an Oracle Health site says lab results and medications "
            "take a minute to load or end with an error. Started today.",
            "priority": "high",
            "area": "medical_records",
            "suspected_upstream": "oracle_health",
            "url": "https://www.va.gov/my-health/medical-records/labs-and-tests/",
            "steps_to_reproduce": "1. Sign in. 2. Medical records > Lab and test results.",
            "expected_behaviour": "Results load within a few seconds.",
            "actual_behaviour": "Spinner for 30-60 seconds, sometimes \"We can't access your "
            'records right now".',
            "troubleshooting_steps": [
                "Tier 1: tried a different device and network",
                "Tier 2: reproduced slow loading while on the phone with the patient",
            ],
            "entry_criterion": "integration_failure",
        }
        self.tickets.append(ticket)  # type: ignore[arg-type]

    def deploy_new_error(self, spec: ScenarioSpec, rng: random.Random) -> None:
        start, end = self.window(spec, rng)
        path = spec.target or rng.choice(DEPLOY_BUG_PATHS)
        if path not in ROUTE_BY_PATH or "{" in path:
            raise ValueError(f"scenario {spec.name}: {path} is not a portal GET endpoint")
        route = ROUTE_BY_PATH[path]
        free = [p.index for p in self.patients if p.index not in self.claimed]
        # The defect trips on one data shape a minority of patients have: a modest error rate.
        share = min(0.5, 0.06 * spec.intensity)
        count = min(len(free), max(5, round(share * len(self.patients))))
        affected = sorted(rng.sample(free, count))
        for u in affected:
            self.claimed.add(u)
            self.add_effect(u, Effect("code_bug", start, end, route=route))
            for t in self.spread(rng, start, end, rng.randint(1, 3)):
                self.add_request(t, u, route)
        sha = _sha(rng)
        self.scenario_deploys.append((start, end, sha))
        controller = ROUTES[route].controller
        reporter = self.patients[affected[0]]
        self.truths.append(
            ScenarioTruth(
                name=spec.name,
                start=from_ms(start),
                end=from_ms(end),
                affected_user_uuids=tuple(sorted(self.patients[u].user_uuid for u in affected)),
                error_code="500",
                signature=CODE_DEFECT.message.format(controller=controller),
                upstream="",
                target=path,
                root_cause=f"Deploy {sha[:12]} introduced a nil-handling defect in {controller}: "
                f"it raises for the {len(affected)} patients whose data has the missing field.",
                root_cause_kind="code_defect",
                escalation="investigator",
                rationale="The error began within a minute of a version change, every upstream "
                "call in the failing requests succeeds, and it hits a modest share of the "
                "endpoint's users (not an outage). That is a recent-code-change investigation "
                "for the investigator on-call; monitoring would be right only if the error rate "
                "made the endpoint unusable.",
                details={"version": sha, "route": path, "share_of_users": round(share, 3)},
            )
        )
        area = ROUTES[route].area
        prefix = {"secure_messaging": "SM - ", "medications": "RX - "}.get(area, "MR - ")
        page = {"secure_messaging": "messages/", "medications": "medications/"}.get(
            area, "medical-records/"
        )
        ticket: dict[str, object] = self.ticket_base(rng, spec.name, reporter, start, end)
        ticket |= {
            "title": f'{prefix}Page fails with "Something went wrong" since yesterday afternoon',
            "description": f"Veteran gets a generic error on {path} every time since "
            "yesterday. Other features work. Tier 2 has two similar calls.",
            "priority": "high",
            "area": area,
            "suspected_upstream": "unknown",
            "url": f"https://www.va.gov/my-health/{page}",
            "steps_to_reproduce": f"1. Sign in. 2. Open the page that calls {path}.",
            "expected_behaviour": "The page loads.",
            "actual_behaviour": '"Something went wrong" error on every try.',
            "troubleshooting_steps": [
                "Tier 1: cleared cache, tried another browser",
                "Tier 2: account and MHV status are OK",
                "Tier 2: other patients at other facilities report the same since the same time",
            ],
            "entry_criterion": "code_bug",
        }
        self.tickets.append(ticket)  # type: ignore[arg-type]

    # -- single-user scenarios ----------------------------------------------------------------

    def signin_icn_mismatch(self, spec: ScenarioSpec, rng: random.Random) -> None:
        start, end = self.window(spec, rng)
        u = self.pick_user(rng, spec)
        self.claimed.add(u)
        other_icn = random_icn(rng)
        self.add_effect(u, Effect("suppress", start, end))
        self.add_effect(u, Effect("icn_mismatch", start, end, value=other_icn))
        for t in self.spread(rng, start, end, max(4, round(6 * spec.intensity))):
            self.add_request(t, u, ROUTE_INDEX["signin"])
        p = self.patients[u]
        provider = "ID.me" if p.credential == "idme" else "Login.gov"
        self.truths.append(
            ScenarioTruth(
                name=spec.name,
                start=from_ms(start),
                end=from_ms(end),
                affected_user_uuids=(p.user_uuid,),
                error_code="103",
                signature="ICN mismatch",
                upstream="mpi",
                target=p.user_uuid,
                root_cause=f"The ICN {provider} returns for this patient differs from the ICN MPI "
                "holds (identity correlation mismatch); every sign-in fails with code 103.",
                root_cause_kind="identity",
                escalation="tier3",
                rationale="One user, reproducible, nobody else gets code 103: a Tier 3 identity "
                "fix (correlation correction with the MPI team), not a system problem.",
                details={"credential_icn": other_icn},
            )
        )
        ticket: dict[str, object] = self.ticket_base(rng, spec.name, p, start, end)
        ticket |= {
            "title": "Unable to sign in: error code 103",
            "description": f"Veteran cannot sign in with {provider}; the page shows \"We can't "
            'sign you in" with error code 103 after identity verification.',
            "priority": "medium",
            "area": "account",
            "suspected_upstream": "mpi",
            "url": "https://www.va.gov/?next=loginModal&oauth=true",
            "steps_to_reproduce": f"1. Open va.gov. 2. Sign in with {provider}. 3. Complete "
            "verification.",
            "expected_behaviour": "The patient lands on My HealtheVet signed in.",
            "actual_behaviour": "Error page with code 103 on every attempt.",
            "troubleshooting_steps": [
                "Tier 1: tried another browser and a private window",
                f"Tier 2: patient re-verified identity with {provider}; still code 103",
            ],
            "entry_criterion": "integration_failure",
        }
        self.tickets.append(ticket)  # type: ignore[arg-type]

    def pharmacy_wrong_mhv_id(self, spec: ScenarioSpec, rng: random.Random) -> None:
        start, end = self.window(spec, rng)
        u = self.pick_user(rng, spec, want_state="MULTIPLE")
        self.claimed.add(u)
        p = self.patients[u]
        wrong = p.other_mhv_correlation_id or str(rng.randrange(10**7, 10**8))
        self.add_effect(
            u, Effect("rx_wrong_id", start, end, route=ROUTE_INDEX["rx_list"], value=wrong)
        )
        for t in self.spread(rng, start, end, max(3, round(4 * spec.intensity))):
            self.add_request(t, u, ROUTE_INDEX["rx_list"])
        self.add_request(rng.randrange(start, end), u, ROUTE_INDEX["user"])
        system = "Oracle Health" if p.oracle_health else "VistA"
        self.truths.append(
            ScenarioTruth(
                name=spec.name,
                start=from_ms(start),
                end=from_ms(end),
                affected_user_uuids=(p.user_uuid,),
                error_code="RX138",
                signature="no prescriptions for MHV correlation id",
                upstream="mhv_api",
                target=p.user_uuid,
                root_cause=f"The patient has two MHV correlation ids ({p.mhv_correlation_id} and "
                f"{wrong}); the pharmacy lookup uses {wrong}, which has no prescriptions, while "
                f"{system} holds the active ones under {p.mhv_correlation_id}.",
                root_cause_kind="identity",
                escalation="tier3",
                rationale="One patient, other patients' prescriptions load fine, the EHR call "
                "succeeds and only the MHV lookup with the second id fails: a single-user data "
                "correlation problem for Tier 3.",
                details={"mhv_id_used": wrong, "mhv_id_expected": p.mhv_correlation_id},
            )
        )
        ticket: dict[str, object] = self.ticket_base(rng, spec.name, p, start, end)
        ticket |= {
            "title": "RX - Medications list empty although the health record shows prescriptions",
            "description": "Veteran's medications page shows no prescriptions, but the care "
            f"team confirms four active prescriptions in {system}. Refill requests are "
            "impossible from the portal.",
            "priority": "medium",
            "area": "medications",
            "suspected_upstream": "mhv_api",
            "url": "https://www.va.gov/my-health/medications/",
            "steps_to_reproduce": "1. Sign in. 2. Open Medications.",
            "expected_behaviour": "Active prescriptions are listed and refillable.",
            "actual_behaviour": 'Empty list / "We can\'t find your medications".',
            "troubleshooting_steps": [
                "Tier 1: signed out and back in, cleared cache",
                "Tier 2: confirmed prescriptions exist with the pharmacy at the facility",
                "Tier 2: account shows MHV account state MULTIPLE",
            ],
            "entry_criterion": "tier2_cannot_resolve",
        }
        self.tickets.append(ticket)  # type: ignore[arg-type]

    def security_session_reads_many(self, spec: ScenarioSpec, rng: random.Random) -> None:
        start, end = self.window(spec, rng)
        u = self.pick_user(rng, spec)
        self.claimed.add(u)
        others = [p.index for p in self.patients if p.index != u]
        read = rng.sample(others, min(len(others), max(4, round(6 * spec.intensity))))
        ip = f"185.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        prefix = f"{rng.getrandbits(32):08x}"
        for victim in read:
            for t in self.spread(rng, start, end, rng.randint(2, 3)):
                self.add_request(
                    t,
                    u,
                    rng.choice(MR_ROUTES),
                    read_patient=victim,
                    remote_ip=ip,
                    request_id_prefix=prefix,
                )
        p = self.patients[u]
        self.truths.append(
            ScenarioTruth(
                name=spec.name,
                start=from_ms(start),
                end=from_ms(end),
                affected_user_uuids=(p.user_uuid,),
                error_code="",
                signature=f"medical records of {len(read)} different patients (payload.icn) read "
                f"in one session: user_uuid {p.user_uuid}, remote_ip {ip}, request ids "
                f"starting {prefix}",
                upstream="",
                target=p.user_uuid,
                root_cause="One session read medical records belonging to several other "
                "patients; every request succeeded (200), so no error alerts fired.",
                root_cause_kind="unknown",
                escalation="monitoring",
                rationale="Possible exposure of protected health information across patients: "
                "a security incident, handled through incident response (monitoring on-call) "
                "whatever the number of users.",
                details={
                    "remote_ip": ip,
                    "request_id_prefix": prefix,
                    "patients_read": sorted(self.patients[v].user_uuid for v in read),
                },
            )
        )
        ticket: dict[str, object] = self.ticket_base(rng, spec.name, p, start, end)
        ticket |= {
            "title": "MR - Patient sees another Veteran's lab results in medical records",
            "description": "Veteran called: lab results and clinical notes showed names and "
            "results that are not theirs. Screens were shared with Tier 2.",
            "priority": "critical",
            "area": "medical_records",
            "suspected_upstream": "unknown",
            "url": "https://www.va.gov/my-health/medical-records/labs-and-tests/",
            "steps_to_reproduce": "Not reproducible by Tier 2; occurred during one session.",
            "expected_behaviour": "Only the patient's own records are shown.",
            "actual_behaviour": "Records of other patients were displayed.",
            "troubleshooting_steps": [
                "Tier 2: asked the patient to sign out of all devices",
                "Tier 2: documented the time and pages visited",
            ],
            "entry_criterion": "security",
        }
        self.tickets.append(ticket)  # type: ignore[arg-type]

    # -- deploys -------------------------------------------------------------------------------

    def versions(self) -> list[tuple[int, str]]:
        """Deploy timeline: routine weekday-afternoon deploys plus the scenario deploys."""
        rng = seeded_rng(self.config.seed, "deploys")
        out: list[tuple[int, str]] = [(self.start_ms, _sha(rng))]
        day = from_ms(self.start_ms).astimezone(EASTERN).replace(hour=0, minute=0, second=0)
        while to_ms(day) < self.end_ms:
            if day.weekday() < 5 and rng.random() < 0.5:
                at = to_ms(day.replace(hour=rng.randint(13, 16), minute=rng.randrange(60)))
                busy = any(s - 3_600_000 <= at <= e for s, e, _ in self.scenario_deploys)
                if self.start_ms < at < self.end_ms and not busy:
                    out.append((at, _sha(rng)))
            # Wall-clock arithmetic: one calendar day in Eastern time, across DST changes too.
            day += timedelta(days=1)
        for start, end, sha in self.scenario_deploys:
            out.append((start, sha))
            if end < self.end_ms:
                out.append((end, _sha(rng)))  # the fix
        out.sort()
        return out


_COHORT_FIRST = (
    "vista_station_outage",
    "oracle_health_latency",
    "deploy_new_error",
    "signin_icn_mismatch",
    "pharmacy_wrong_mhv_id",
    "security_session_reads_many",
)


def build_plan(config: SimulationConfig) -> Plan:
    """Resolve ``config`` into a plan; deterministic in ``config``."""
    planner = _Planner(config)
    # Resolve cohorts before single users so a single-user scenario never lands inside a cohort;
    # keep the caller's order in the outputs.
    order = sorted(
        range(len(config.scenarios)),
        key=lambda i: (_COHORT_FIRST.index(config.scenarios[i].name), i),
    )
    produced: dict[int, tuple[ScenarioTruth, TicketSeed]] = {}
    for i in order:
        spec = config.scenarios[i]
        rng = seeded_rng(config.seed, f"scenario:{i}:{spec.name}")
        getattr(planner, spec.name)(spec, rng)
        produced[i] = (planner.truths[-1], planner.tickets[-1])
    plan = Plan(
        config=config,
        patients=planner.patients,
        start_ms=planner.start_ms,
        end_ms=planner.end_ms,
        versions=planner.versions(),
        truths=[produced[i][0] for i in range(len(config.scenarios))],
        tickets=[produced[i][1] for i in range(len(config.scenarios))],
        effects=planner.effects,
        requests=sorted(r for r in planner.requests if planner.start_ms <= r.t_ms < planner.end_ms),
    )
    return plan
