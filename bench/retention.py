"""Retention soak: does the store keep a steady size, and the process a steady RSS, over a
million events? Run once with retention on and once with it off.

``python -m bench.retention [--events 1000000] [--window-s 30] [--modes on,off]``
``python -m bench.retention --index-cost [--postgres] [--events 40000] [--rounds 3] [--label L]``

In-process, at full speed: the simulator's population, then a steady stream over its cases
(updates of a fixed set of records, a press of a button every ``PRESS_EVERY`` events, a
malformed event every ``MALFORMED_EVERY``) goes through the real ``BatchProcessor`` (the
bridge's, from ``build_processor``: every flow and the visibility hook) on a real SQLite store,
in batches of 500; each batch marks the previous batch's outbox rows sent, as the bridge's relay
does. The records stay the same set, so any growth is history: processed-event keys, sent
commands, dead letters. An operator "handles" the dead letters (marks them retried) at every
sample. With retention on, the bridge's own pruner (:func:`bridge.store.retention.pruning_loop`)
runs beside the batches with every window ``--window-s`` seconds (real time: the rows carry the
real clock), so the steady state is reached in seconds instead of days.

Every ``--sample-every`` events: rows per table, the file's pages (in use and free), the file
and its write-ahead log, the process's RSS. Output: ``bench/results/retention.json`` and
``retention.md``.

``--index-cost``: the per-event cost of migration 0007's indexes. The same stream through a
store at 0006 and one at 0007, alternately (ABBA), CPU µs per event; ``--postgres`` on a
throwaway PostgreSQL cluster (the server's backends' CPU counted too). Results accumulate in
``retention.json`` under ``--label``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import make_url

from bench.config import RESULTS
from bench.probe import cpu_seconds, memory_kib
from bridge.mapping import load_mapping_set
from bridge.pipeline.factory import build_processor
from bridge.pipeline.records import RawRecord
from bridge.settings import RetentionSettings, Settings, StoreSettings
from bridge.store.batch_store import open_batch_store
from bridge.store.migrate import upgrade
from bridge.store.plan import Execute, Plan
from bridge.store.retention import pruning_loop
from bridge.store.schema import dead_letters
from bridge.store.sql import Statement
from bridgedev.simulate.workload import population_messages
from bridgedev.simulate.world import SimWorld

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
BATCH = 500
PRESS_EVERY = 50
MALFORMED_EVERY = 2000
TABLES = ("processed_events", "outbox", "dead_letters", "links", "records")
PRESSES = ("create_incident", "create_work_order")

# What an operator does with `bridge dlq retry` (the re-injection itself is not the point).
HANDLE_DEAD_LETTERS = Statement(
    "soak_handle_dead_letters",
    lambda d: update(dead_letters).where(dead_letters.c.status == "new").values(status="retried"),
)


def _handle_dead_letters() -> Plan[None]:
    yield Execute(HANDLE_DEAD_LETTERS)


class SteadyStream:
    """The population's inserts, then changes over its cases forever: the same records."""

    def __init__(self, seed: int = 7) -> None:
        self.population = list(population_messages(SimWorld(seed), "small"))
        self.cases = [
            copy.deepcopy(m.event)
            for m in self.population
            if m.event is not None and m.event["table"] == "sn_customerservice_case"
        ]
        self.n = 0

    def raws(self, count: int) -> Iterator[RawRecord]:
        topics = Settings(_env_file=None).topics.events()
        offset = 0
        for message in self.population:
            offset += 1
            yield RawRecord(topics[message.source], 0, offset, message.key, message.value)
        for _ in range(count):
            offset += 1
            yield RawRecord(topics["csm"], 0, offset, None, self._next())

    def _next(self) -> bytes:
        self.n += 1
        n = self.n
        if n % MALFORMED_EVERY == 0:
            return b'{"event_id": "broken'
        case = self.cases[(n * 7919) % len(self.cases)]
        event: dict[str, Any] = {**case, "event_id": str(uuid.uuid4()), "changed_fields": [], "journal": []}
        if n % PRESS_EVERY == 0:
            event.update(operation="action", action=PRESSES[(n // PRESS_EVERY) % 2])
        else:
            case["sys_mod_count"] = str(int(case["sys_mod_count"]) + 1)
            case["record"]["short_description"] = f"steady update {n}"
            event.update(
                operation="update",
                action=None,
                sys_mod_count=case["sys_mod_count"],
                changed_fields=["short_description"],
            )
        return json.dumps(event).encode()


@dataclass
class Point:
    events: int
    seconds: float
    rss_mib: float
    pages: int
    free_pages: int
    file_mib: float
    wal_mib: float
    rows: dict[str, int]


@dataclass
class Run:
    mode: str  # "on" | "off"
    events: int
    window_s: float
    seconds: float = 0.0
    events_per_s: float = 0.0
    #: CPU of the whole process (batches, SQLite's thread, the pruner) per event
    cpu_us_per_event: float = 0.0
    points: list[Point] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)


def _rss_mib() -> float:
    return memory_kib(os.getpid())[0] / 1024


def _measure(path: Path, events: int, started: float) -> Point:
    conn = sqlite3.connect(path)
    try:
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        conn.close()
    wal = Path(f"{path}-wal")
    return Point(
        events,
        round(time.monotonic() - started, 1),
        round(_rss_mib(), 1),
        pages,
        free,
        round(path.stat().st_size / 2**20, 1),
        round(wal.stat().st_size / 2**20 if wal.exists() else 0.0, 1),
        rows,
    )


async def soak(mode: str, events: int, window_s: float, sample_every: int, folder: Path, progress: bool = True) -> Run:
    path = folder / f"retention-{mode}.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    store = open_batch_store(StoreSettings(url=url))
    await store.open()
    mappings = load_mapping_set(MAPPINGS)
    processor = build_processor(store, Settings(_env_file=None), lambda: mappings)
    days = window_s / 86400
    retention = RetentionSettings(
        enabled=mode == "on",
        processed_events_days=days,
        action_keys_days=days,
        sent_commands_days=days,
        pending_inserts_days=days,
        dead_letters_days=days,
        routing_log_days=days,
        interval_s=min(2.0, window_s / 4),
        step_rows=1000,
        step_pause_ms=5,
    )
    stopping = asyncio.Event()
    pruner = asyncio.create_task(pruning_loop(store, retention, stopping))
    run = Run(mode, events, window_s)
    stream = SteadyStream()
    started, cpu = time.monotonic(), time.process_time()
    done, published, batch = 0, [], []
    next_sample = 0
    try:
        for raw in stream.raws(events):
            batch.append(raw)
            if len(batch) < BATCH:
                continue
            result = await processor.process(batch, published=published)
            published = [row["message_id"] for row in result.outbox]
            for outcome, n in result.outcomes.items():
                run.outcomes[outcome] = run.outcomes.get(outcome, 0) + n
            done += len(batch)
            batch = []
            if done >= next_sample:
                await store.run(_handle_dead_letters())
                run.points.append(_measure(path, done, started))
                next_sample += sample_every
                if progress:
                    p = run.points[-1]
                    print(
                        f"[{mode}] {done:>9} events {p.seconds:>7.0f}s rss {p.rss_mib:.0f} MiB "
                        f"pages {p.pages} (free {p.free_pages}) rows {p.rows}",
                        file=sys.stderr,
                        flush=True,
                    )
        if batch:
            result = await processor.process(batch, published=published)
            for outcome, n in result.outcomes.items():
                run.outcomes[outcome] = run.outcomes.get(outcome, 0) + n
            done += len(batch)
        run.seconds = time.monotonic() - started
        run.events_per_s = round(done / run.seconds, 1)
        run.cpu_us_per_event = round((time.process_time() - cpu) / done * 1e6, 1)
        run.points.append(_measure(path, done, started))
    finally:
        stopping.set()
        await pruner
        await store.close()
    return run


async def index_cost(events: int, rounds: int, folder: Path, postgres_server: str | None = None) -> dict[str, Any]:
    """CPU µs per event through the processor, store at 0006 (no retention index) vs 0007;
    on SQLite files, or on fresh databases of ``postgres_server`` (its CPU is then the
    server's too: this process's plus the server's backends', read from ``/proc``)."""
    results: dict[str, list[float]] = {"0006": [], "0007": []}
    order = [rev for i in range(rounds) for rev in (("0006", "0007") if i % 2 == 0 else ("0007", "0006"))]
    mappings = load_mapping_set(MAPPINGS)
    for i, revision in enumerate(order):
        async with contextlib.AsyncExitStack() as stack:
            if postgres_server is None:
                url = f"sqlite+aiosqlite:///{folder / f'index-{i}.db'}"
            else:
                from tests.fixtures.postgres import fresh_database  # the suite's throwaway databases

                url = await stack.enter_async_context(fresh_database(postgres_server))
            results[revision].append(await _cost_on(url, revision, events, mappings))
        print(f"index cost: {revision} {results[revision][-1]:.1f} CPU-µs/event", file=sys.stderr, flush=True)
    medians = {rev: round(statistics.median(v), 1) for rev, v in results.items()}
    return {
        "events": events,
        "rounds": rounds,
        "cpu_us_per_event": results,
        "median": medians,
        "store": "postgresql" if postgres_server else "sqlite",
        "change_pct": round((medians["0007"] / medians["0006"] - 1) * 100, 1),
    }


def _cpu_with(pids: list[int]) -> float:
    return time.process_time() + sum(cpu_seconds(pid) for pid in pids)


def _server_pids(port: int) -> list[int]:
    """The processes of the PostgreSQL server listening on ``port`` (its postmaster, found by
    its command line, and the postmaster's children): not other clusters on the machine."""
    procs: dict[int, tuple[int, bytes]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                procs[int(entry.name)] = (ppid, (entry / "cmdline").read_bytes())
            except (OSError, ValueError, IndexError):
                continue
    masters = {pid for pid, (_, cmd) in procs.items() if b"postgres" in cmd and f"-p\0{port}\0".encode() in cmd}
    return [pid for pid, (ppid, _) in procs.items() if pid in masters or ppid in masters]


async def _cost_on(url: str, revision: str, events: int, mappings: Any) -> float:
    """CPU µs per event through the processor on a store at ``revision``, after a warm-up."""
    await upgrade(url, revision)
    store = open_batch_store(StoreSettings(url=url))
    await store.open()
    processor = build_processor(store, Settings(_env_file=None), lambda: mappings)
    raws = list(SteadyStream().raws(events))
    warm, measured = raws[: len(raws) // 5], raws[len(raws) // 5 :]
    for j in range(0, len(warm), BATCH):
        await processor.process(warm[j : j + BATCH])
    port = make_url(url).port
    pids = [] if port is None else _server_pids(port)  # the backends serving our connections
    cpu = _cpu_with(pids)
    for j in range(0, len(measured), BATCH):
        await processor.process(measured[j : j + BATCH])
    used = _cpu_with(pids) - cpu
    await store.close()
    return used / len(measured) * 1e6


def _growth(run: Run) -> dict[str, Any]:
    """From the sample after the first quarter to the end: what grew."""
    points = run.points
    first = points[min(len(points) - 1, max(1, len(points) // 4))]
    last = points[-1]
    return {
        "from_events": first.events,
        "to_events": last.events,
        "pages": [first.pages, last.pages],
        "rss_mib": [first.rss_mib, last.rss_mib],
        "rows": {t: [first.rows[t], last.rows[t]] for t in TABLES},
    }


def _load(out: Path) -> tuple[list[Run], dict[str, Any] | None]:
    """What an earlier run wrote (the soak and the index's cost are run separately)."""
    previous = out / "retention.json"
    if not previous.exists():
        return [], None
    data = json.loads(previous.read_text())
    runs = [
        Run(
            **{
                **{k: v for k, v in r.items() if k not in ("growth", "points")},
                "points": [Point(**p) for p in r["points"]],
            }
        )
        for r in data["runs"]
    ]
    return runs, data.get("index_cost")


def report(out: Path, runs: list[Run] | None = None, cost: dict[str, Any] | None = None) -> None:
    """Write retention.json and .md: the parts given, the others as an earlier run left them."""
    out.mkdir(parents=True, exist_ok=True)
    previous_runs, previous_cost = _load(out)
    runs = previous_runs if runs is None else runs
    cost = previous_cost if cost is None else cost
    data = {"runs": [{**asdict(r), "growth": _growth(r)} for r in runs], "index_cost": cost}
    (out / "retention.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = ["# Retention soak", "", "Written by `python -m bench.retention` (see its docstring).", ""]
    for r in runs:
        g = _growth(r)
        lines += [
            f"## Retention {r.mode}: {r.events:,} events, {r.events_per_s:,.0f} events/s, "
            f"{r.seconds / 60:.1f} min, {r.cpu_us_per_event:g} CPU-µs/event"
            + (f", windows {r.window_s:g} s" if r.mode == "on" else ""),
            "",
            "| events | s | RSS MiB | pages (free) | file MiB | WAL MiB | " + " | ".join(TABLES) + " |",
            "|" + "---|" * (6 + len(TABLES)),
        ]
        for p in r.points:
            lines.append(
                f"| {p.events:,} | {p.seconds:.0f} | {p.rss_mib:.0f} | {p.pages:,} "
                f"({p.free_pages:,}) | {p.file_mib} | {p.wal_mib} | "
                + " | ".join(f"{p.rows[t]:,}" for t in TABLES)
                + " |"
            )
        lines += [
            "",
            f"From {g['from_events']:,} to {g['to_events']:,} events: pages "
            f"{g['pages'][0]:,} → {g['pages'][1]:,}, RSS {g['rss_mib'][0]} → "
            f"{g['rss_mib'][1]} MiB; outcomes {r.outcomes}",
            "",
        ]
    if cost:
        lines += [
            "## Hot-path cost of migration 0007's indexes",
            "",
            "CPU µs per event through the BatchProcessor, a store at 0006 against one at "
            "0007, alternately (ABBA); the median of each:",
            "",
        ]
        for label, result in cost.items() if "median" not in cost else [("", cost)]:
            lines.append(
                f"- {label + ': ' if label else ''}0006 {result['median']['0006']}, "
                f"0007 {result['median']['0007']} ({result['change_pct']:+}%), "
                f"{result['events']:,} events × {result['rounds']} rounds"
            )
        lines.append("")
    (out / "retention.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retention")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--window-s", type=float, default=30.0)
    parser.add_argument("--sample-every", type=int, default=50_000)
    parser.add_argument("--modes", default="on,off")
    parser.add_argument("--index-cost", action="store_true", help="only the index's cost")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default="shipped", help="the index-cost result's name")
    parser.add_argument(
        "--postgres", action="store_true", help="index cost on a throwaway PostgreSQL cluster (tests/fixtures)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    async def go() -> None:
        with tempfile.TemporaryDirectory(prefix="bench-retention-") as folder:
            if args.index_cost:
                _, previous = _load(args.out)
                if args.postgres:
                    from tests.fixtures.postgres import LocalPostgres

                    with LocalPostgres() as server:
                        measured = await index_cost(args.events, args.rounds, Path(folder), server.url)
                else:
                    measured = await index_cost(args.events, args.rounds, Path(folder))
                # earlier labelled results stay (an unlabelled one, of an older format, not)
                labelled = dict(previous) if previous and "median" not in previous else {}
                report(args.out, cost={**labelled, args.label: measured})
                return
            runs = [
                await soak(mode, args.events, args.window_s, args.sample_every, Path(folder))
                for mode in args.modes.split(",")
            ]
            report(args.out, runs=runs)

    asyncio.run(go())


if __name__ == "__main__":
    main()
