"""The simulator's inputs and outputs: configuration, scenario requests, ground truth, ticket seeds.

Plain dataclasses and typed dicts so the CLI, the demo loader and the tests can build and read them
without importing the generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypedDict

Escalation = Literal["tier3", "monitoring", "investigator"]

SCENARIO_NAMES: tuple[str, ...] = (
    "signin_icn_mismatch",
    "pharmacy_wrong_mhv_id",
    "vista_station_outage",
    "oracle_health_latency",
    "deploy_new_error",
    "security_session_reads_many",
)

# Monday 6 January 2025, 00:00 Eastern: a plain working week with no federal holiday in it.
DEFAULT_START = datetime(2025, 1, 6, 5, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ScenarioSpec:
    """A request to inject one named scenario; every field left as None is chosen from the seed.

    ``target`` names what the scenario hits: a user UUID (sign-in, pharmacy, security), a VistA
    station number (outage), an Oracle Health station number or ``"all"`` (latency), or a portal
    path such as ``/my_health/v1/messaging/folders`` (deploy).
    """

    name: str
    start: datetime | None = None
    duration: timedelta | None = None
    intensity: float = 1.0
    target: str | None = None

    def __post_init__(self) -> None:
        if self.name not in SCENARIO_NAMES:
            raise ValueError(
                f"unknown scenario {self.name!r}; choose one of: {', '.join(SCENARIO_NAMES)}"
            )
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError(f"scenario {self.name}: start must be timezone-aware")
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError(f"scenario {self.name}: duration must be positive")
        if not self.intensity > 0:
            raise ValueError(f"scenario {self.name}: intensity must be positive")


@dataclass(frozen=True)
class SimulationConfig:
    """Everything the output depends on: the same config always gives byte-identical output.

    ``events_per_second`` is the mean over a whole week of the traffic shape; a weekday afternoon runs
    well above it and a weekend night well below.
    """

    seed: int = 0
    start: datetime = DEFAULT_START
    days: float = 3.0
    users: int = 2000
    events_per_second: float = 5.0
    scenarios: list[ScenarioSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if not self.days > 0:
            raise ValueError("days must be positive")
        if self.users < 20:
            raise ValueError("users must be at least 20 (scenarios need distinct patients)")
        if not self.events_per_second > 0:
            raise ValueError("events_per_second must be positive")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


@dataclass(frozen=True)
class ScenarioTruth:
    """What really happened in one injected scenario: the answer key for triage and escalation.

    ``affected_user_uuids`` are the users who received the scenario's errors (for the security
    scenario: the session's own user; the patients whose records it read are in
    ``details["patients_read"]``). ``signature`` is text that appears in the message of every
    scenario error event; ``error_code`` is the ``error_code`` attribute those events carry (empty
    when the scenario produces no error code, as in the security scenario).
    """

    name: str
    start: datetime
    end: datetime
    affected_user_uuids: tuple[str, ...]
    error_code: str
    signature: str
    upstream: str
    target: str
    root_cause: str
    root_cause_kind: str
    escalation: Escalation
    rationale: str
    details: dict[str, Any] = field(default_factory=dict)


class TicketSeed(TypedDict):
    """The Tier 2 escalation a scenario would cause, keyed like the ticket model's fields.

    ``scenario`` and ``reported_at`` are not ticket fields: they link the seed to its ground truth
    and say when Tier 2 would file it.
    """

    scenario: str
    reported_at: str
    title: str
    description: str
    priority: str
    area: str
    suspected_upstream: str
    affected_user_id: str
    occurred_at: str
    occurred_until: str
    device: str
    browser: str
    os: str
    credential: str
    oracle_health_site: bool
    url: str
    external_refs: list[str]
    steps_to_reproduce: str
    expected_behaviour: str
    actual_behaviour: str
    troubleshooting_steps: list[str]
    entry_criterion: str


@dataclass(frozen=True)
class Summary:
    """What ``write_jsonl`` produced."""

    events: int
    bytes: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")
