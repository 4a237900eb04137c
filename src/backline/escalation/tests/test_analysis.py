"""Analysis against a small hand-made store (conftest): every number is known in advance."""

from __future__ import annotations

from datetime import timedelta

from backline.escalation import analysis
from backline.escalation.rules import Thresholds
from backline.escalation.tests.conftest import NOW
from backline.logs.duckdb_source import DuckDBSource

T = Thresholds()


def run(source: DuckDBSource, user: str) -> analysis.TicketAnalysis:
    return analysis.ticket_analysis(
        source,
        user_id=user,
        occurred_at=NOW - timedelta(hours=2, minutes=30),
        occurred_until=NOW,
        now=NOW,
        thresholds=T,
    )


def test_a_shared_spike_goes_to_monitoring_with_its_numbers(source: DuckDBSource) -> None:
    found = run(source, "spike-03")
    assert found.recommendation.target == "monitoring"
    (report,) = found.signatures
    thirty = report.facts.window("30m")
    assert thirty is not None and thirty.users == 12
    assert thirty.baseline == 1.0 and thirty.baseline_days == 3
    assert report.facts.other_users_24h == 11
    facility = next(c for c in report.concentration if c.field == "@facility")
    assert facility.value == "589" and facility.error_share == 1.0 and facility.lift > 3


def test_a_signature_nobody_else_has_stays_at_tier3(source: DuckDBSource) -> None:
    found = run(source, "u-lonely")
    assert (found.recommendation.target, found.recommendation.deciding) == (
        "tier3",
        ("confined_to_user",),
    )
    assert found.signatures[0].facts.user_events == 4


def test_a_new_error_right_after_a_deploy_goes_to_the_investigator(source: DuckDBSource) -> None:
    found = run(source, "new-02")
    facts = found.signatures[0].facts
    assert facts.version_change_at == NOW.replace(hour=14)
    assert facts.endpoint_share is not None and 0.1 < facts.endpoint_share < 0.2
    assert found.recommendation.target == "investigator"


def test_one_user_reading_several_patients_is_a_security_incident(source: DuckDBSource) -> None:
    found = run(source, "u-snoop")
    assert found.security.patients_read == 5
    assert found.recommendation.deciding == ("session_reads_many",)


def test_background_noise_is_never_elevated(source: DuckDBSource) -> None:
    report = analysis.signature_report(
        source,
        "sigbg",
        now=NOW,
        thresholds=T,
        coverage=analysis.Coverage.load(source, NOW - timedelta(days=8), NOW),
    )
    assert report.facts.window("30m") is not None
    assert report.facts.days_seen == 3


def test_detection_finds_the_spike_and_the_snoop_and_skips_known_keys(
    source: DuckDBSource,
) -> None:
    state = analysis.DetectionState()
    found = analysis.detect_candidates(source, NOW, T, state=state, token=lambda u: "tok")
    assert {c.key for c in found} == {"sig:sigspike", "security:reads:tok"}
    again = analysis.detect_candidates(
        source, NOW, T, state=state, skip_keys={c.key for c in found}, token=lambda u: "tok"
    )
    assert again == []


def test_detection_before_the_spike_finds_nothing(source: DuckDBSource) -> None:
    assert analysis.detect_candidates(source, NOW - timedelta(minutes=31), T) == []


def test_top_signatures_marks_new_since_deploy(source: DuckDBSource) -> None:
    rows, deploy = analysis.top_signatures(source, NOW - timedelta(hours=3), NOW)
    by_sig = {r.signature: r for r in rows}
    assert deploy == NOW.replace(hour=14)
    assert by_sig["signew"].new_since_deploy and by_sig["signew"].users == 6
    assert not by_sig["sigspike"].new_since_deploy
    assert sum(by_sig["sigspike"].trend) == by_sig["sigspike"].count == 12


def test_ticket_window_is_around_when_it_happened() -> None:
    start, end = analysis.ticket_window(NOW - timedelta(hours=1), None, NOW)
    assert start == NOW - timedelta(hours=1, minutes=30) and end == NOW
