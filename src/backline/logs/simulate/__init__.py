"""A simulated health portal: deterministic JSON logs, injected scenarios and their ground truth.

The simulator owns the made-up world Backline is demonstrated and benchmarked on: a population of
patients, the portal back end's request and upstream-call logs with a daily and weekly traffic shape,
background errors and deploys, and named scenarios (a sign-in identity mismatch, a wrong MHV id in
the pharmacy lookup, a VistA station outage, an Oracle Health latency regression, a deploy that
introduces an error, a session reading many patients' records). For each scenario it also gives the
answer key (``manifest``) and the Tier 2 escalation it would cause (``ticket_seeds``).

It is framework-free (stdlib only) and must not import Django or the log store: it only produces
events in the shape ``backline.logs.schema`` describes. Same config, same bytes.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, Any

from backline.logs.simulate.engine import generate_lines, traffic_factor
from backline.logs.simulate.plan import build_plan
from backline.logs.simulate.types import (
    DEFAULT_START,
    SCENARIO_NAMES,
    ScenarioSpec,
    ScenarioTruth,
    SimulationConfig,
    Summary,
    TicketSeed,
)

__all__ = [
    "DEFAULT_START",
    "SCENARIO_NAMES",
    "ScenarioSpec",
    "ScenarioTruth",
    "SimulationConfig",
    "Summary",
    "TicketSeed",
    "all_scenarios",
    "iter_events",
    "iter_lines",
    "manifest",
    "parse_scenario",
    "ticket_seeds",
    "traffic_factor",
    "write_jsonl",
]


def iter_lines(config: SimulationConfig) -> Iterator[str]:
    """Every event as one JSON text line (no trailing newline), in timestamp order."""
    for batch in generate_lines(build_plan(config)):
        yield from batch


def iter_events(config: SimulationConfig) -> Iterator[dict[str, Any]]:
    """Every event as a dict, in timestamp order: exactly what ``write_jsonl`` writes, parsed."""
    for batch in generate_lines(build_plan(config)):
        for line in batch:
            yield json.loads(line)


def write_jsonl(config: SimulationConfig, target: str | os.PathLike[str] | IO[Any]) -> Summary:
    """Write every event as JSON Lines to a path or an open file (text or binary).

    A path is created or overwritten. An open file is written to and left open.
    """
    began = time.perf_counter()
    if isinstance(target, str | os.PathLike):
        with open(target, "wb", buffering=1 << 20) as fh:
            events, size = _write(config, fh)
    else:
        events, size = _write(config, target)
    return Summary(events=events, bytes=size, seconds=time.perf_counter() - began)


def _chunks(config: SimulationConfig) -> Iterator[tuple[int, str]]:
    """(line count, text) pieces of the output, each ending in a newline."""
    for batch in generate_lines(build_plan(config)):
        # Joined in slices of a couple of MB: big enough to amortise the calls, small enough for
        # the allocator to reuse the same memory instead of faulting in fresh pages every time.
        for i in range(0, len(batch), _WRITE_LINES):
            lines = batch[i : i + _WRITE_LINES]
            # The empty last item gives the trailing newline without copying the chunk again.
            yield len(lines), "\n".join([*lines, ""])


def _write(config: SimulationConfig, fh: IO[Any]) -> tuple[int, int]:
    if isinstance(fh, io.TextIOBase):
        events = size = 0
        for count, chunk in _chunks(config):
            fh.write(chunk)
            events += count
            size += len(chunk.encode("utf-8"))
        return events, size
    if isinstance(fh, io.BufferedWriter | io.FileIO):
        return _write_overlapped(config, fh)
    events = size = 0
    for count, chunk in _chunks(config):
        data = chunk.encode("utf-8")
        fh.write(data)
        events += count
        size += len(data)
    return events, size


def _write_overlapped(config: SimulationConfig, fh: IO[bytes]) -> tuple[int, int]:
    """Write to a real file from a second thread while this one generates.

    A file write releases the GIL for the copy into the kernel, which is about a third of the time
    for a file on disk; on a second core it overlaps with generation instead of adding to it.

    1. This thread generates and encodes chunks and puts them on a small queue (backpressure: at
       most a few chunks wait in memory).
    2. The writer thread takes chunks in order and writes them; on an error it records it and
       keeps draining the queue so this thread never blocks on a full queue.
    3. ``None`` on the queue ends the writer; this thread joins it and re-raises its error.
    """
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def writer() -> None:
        while (data := pending.get()) is not None:
            if not failure:
                try:
                    fh.write(data)
                except BaseException as exc:  # re-raised in the generating thread
                    failure.append(exc)

    thread = threading.Thread(target=writer, name="simulate-writer", daemon=True)
    thread.start()
    events = size = 0
    try:
        for count, chunk in _chunks(config):
            data = chunk.encode("utf-8")
            pending.put(data)
            events += count
            size += len(data)
            if failure:
                break
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return events, size


_WRITE_LINES = 2000


def manifest(config: SimulationConfig) -> list[ScenarioTruth]:
    """The ground truth of every scenario in ``config``, in the order the scenarios were given.

    Cheap: it resolves the scenarios without generating events.
    """
    return build_plan(config).truths


def ticket_seeds(config: SimulationConfig) -> list[TicketSeed]:
    """The Tier 2 escalation each scenario in ``config`` would cause, one per scenario."""
    return build_plan(config).tickets


def all_scenarios(intensity: float = 1.0) -> list[ScenarioSpec]:
    """One of each named scenario, times and targets chosen from the seed."""
    return [ScenarioSpec(name=name, intensity=intensity) for name in SCENARIO_NAMES]


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_scenario(text: str) -> ScenarioSpec:
    """Parse the CLI's ``--scenario`` value: ``name[:key=value,...]``.

    Keys: ``start`` (ISO 8601 with offset), ``duration`` (``90m``, ``2h``, ``1.5d``),
    ``intensity`` (a multiplier), ``target`` (user uuid, station number, ``all`` or a portal path).
    Example: ``vista_station_outage:start=2025-01-07T14:00-05:00,duration=2h,target=589``.
    """
    name, _, rest = text.partition(":")
    values: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"scenario option {item!r} is not key=value")
        if key == "start":
            values["start"] = datetime.fromisoformat(value)
            if values["start"].tzinfo is None:
                raise ValueError(f"scenario start {value!r} needs a UTC offset, e.g. -05:00")
        elif key == "duration":
            match = _DURATION_RE.match(value.strip())
            if match is None:
                raise ValueError(f"scenario duration {value!r}: use e.g. 90m, 2h or 1.5d")
            values["duration"] = timedelta(**{_UNITS[match[2]]: float(match[1])})
        elif key == "intensity":
            values["intensity"] = float(value)
        elif key == "target":
            values["target"] = value.strip()
        else:
            raise ValueError(
                f"unknown scenario option {key!r}; use start, duration, intensity or target"
            )
    return ScenarioSpec(name=name.strip(), **values)
