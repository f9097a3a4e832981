"""The incident lifecycle on hand-built bucket scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from detector.spikes.engine import BucketScore, State
from detector.spikes.incidents import IncidentTracker

T0 = datetime(2021, 11, 19, 20, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def score(minute: int, observed: float, state: State, expected: float = 0.5) -> BucketScore:
    window = observed * 5 if state != State.OK else 2.0  # background: 2 in 5 min, 0.8x
    return BucketScore(
        key="tesla",
        at=T0 + minute * MINUTE,
        observed=observed,
        expected=expected,
        window_minutes=5,
        window_observed=window,
        window_expected=expected * 5,
        p_value=1e-9 if state == State.PROBLEMS else 0.5,
        score=0.9 if state == State.PROBLEMS else 0.0,
        state=state,
    )


def plan(minutes: int, bursts: list[tuple[int, int, float]]) -> list[list[BucketScore]]:
    """Per minute, the scores: quiet background at 0.5/min, bursts (first, last, count) at
    PROBLEMS after two minutes."""
    steps = []
    for m in range(minutes):
        burst = next((b for b in bursts if b[0] <= m <= b[1]), None)
        if burst is None:
            steps.append([score(m, 1.0 if m % 2 else 0.0, State.OK)])
        else:
            state = State.PROBLEMS if m - burst[0] >= 2 else State.POSSIBLE
            steps.append([score(m, burst[2], state)])
    return steps


def replay(tracker: IncidentTracker, steps, first: int = 0):
    events = []
    for m, scores in enumerate(steps[first:], start=first):
        events += tracker.update(T0 + m * MINUTE, scores)
    return events


def test_opens_backdated_updates_and_resolves_after_calm():
    steps = plan(200, [(60, 100, 4.0)])  # 8x: major
    steps[80] = [score(80, 80.0, State.PROBLEMS)]  # 160x: critical
    events = replay(IncidentTracker(), steps)
    assert [(e.type, e.change) for e in events] == [
        ("incident.opened", "opened"),
        ("incident.updated", "severity major -> critical"),
        ("incident.updated", "severity critical -> major"),  # after 10 minutes lower
        ("incident.resolved", "resolved"),
    ]
    opened, up, down, resolved = events
    assert up.at == T0 + 81 * MINUTE and down.at == T0 + 91 * MINUTE
    incident = resolved.incident
    assert incident.id == "tesla:20211119T2100Z" == opened.incident.id
    assert incident.start == T0 + 60 * MINUTE  # back-dated to the first burst minute
    assert incident.detected_at == T0 + 63 * MINUTE  # end of the first problems bucket
    assert incident.end == T0 + 101 * MINUTE  # the burst's last bucket ends
    assert resolved.at == incident.end + 30 * MINUTE  # hysteresis: 30 calm minutes
    assert incident.peak_severity == "critical"
    assert incident.peak_observed == 400.0
    assert "tesla" in incident.explanation(resolved.at)


def test_a_relapse_soon_after_reopens_the_same_incident():
    steps = plan(400, [(60, 80, 20.0), (130, 150, 20.0)])  # 49 min after the end
    events = replay(IncidentTracker(), steps)
    assert [(e.type, e.change) for e in events] == [
        ("incident.opened", "opened"),
        ("incident.resolved", "resolved"),
        ("incident.updated", "reopened"),
        ("incident.resolved", "resolved"),
    ]
    assert len({e.incident.id for e in events}) == 1
    assert events[-1].incident.reopened == 1


def test_a_later_burst_is_a_new_incident():
    steps = plan(400, [(60, 80, 20.0), (250, 270, 20.0)])
    events = replay(IncidentTracker(), steps)
    assert [e.type for e in events] == ["incident.opened", "incident.resolved"] * 2
    assert events[0].incident.id != events[2].incident.id


def snapshots(tracker: IncidentTracker, steps, first: int = 0):
    """Each event with the incident as it was when the event happened."""
    out = []
    for m, scores in enumerate(steps[first:], start=first):
        for e in tracker.update(T0 + m * MINUTE, scores):
            out.append((e.type, e.at, e.change, orjson.dumps(e.incident.as_dict())))
    return out


def test_a_restart_mid_incident_continues_identically():
    steps = plan(300, [(60, 120, 20.0)])
    straight = snapshots(IncidentTracker(), steps)
    first = IncidentTracker()
    before = snapshots(first, steps[:90])
    saved = orjson.loads(orjson.dumps(first.to_state()))  # through JSON, as the store keeps it
    after = snapshots(IncidentTracker.from_state(saved), steps, first=90)
    assert before + after == straight
