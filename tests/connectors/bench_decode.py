"""Micro-benchmark: µs per `decode_event`, per malformed event, per command build + `to_json`.

Run: `.venv/bin/python -m tests.connectors.bench_decode`. Not a test: timings are printed,
never asserted. Each figure is the best of many short runs (about a millisecond each) in this
one process: on a shared machine some run then finds the CPU to itself. `timeit` turns the
garbage collector off while it times, so the headline cases are timed with it on as well (the
running bridge has it on, and it is part of what decoding costs there).
"""

from __future__ import annotations

import gc
import json
import timeit
from collections.abc import Callable
from pathlib import Path

from connectors.common import CausedBy, Command, DecodeError, decode_event
from connectors.fsm import commands as fsm
from tests.connectors.examples import EXAMPLES_DIR, event_examples

ROUNDS = 300
NUMBER = 100  # calls per run
CASE_ID = "c1659a27528573a105244296a480c759"


def _best_us(func: Callable[[], object], *, with_gc: bool = False) -> float:
    setup = "import gc; gc.enable()" if with_gc else "pass"
    best = min(timeit.repeat(func, setup=setup, number=NUMBER, repeat=ROUNDS))
    return best / NUMBER * 1e6


def _case_update_variants() -> dict[str, bytes]:
    """The contract's case update as published (pretty), as `json.dumps` writes it (~1.9 kB),
    and compact (as the simulators publish)."""
    raw = event_examples()["csm-case-update.json"]
    return {
        "csm-case-update.json": raw,
        "csm-case-update (json.dumps)": json.dumps(json.loads(raw)).encode(),
        "csm-case-update (compact)": json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode(),
    }


def _malformed() -> dict[str, bytes]:
    """Bad events that fail late (in the record) and early (not JSON)."""
    document = json.loads(event_examples()["csm-case-update.json"])
    document["record"]["contact"] = {"value": "not a sys_id", "display_value": "Ada"}
    return {
        "malformed: record.contact": json.dumps(document).encode(),
        "malformed: truncated JSON": event_examples()["csm-case-update.json"][:-40],
    }


def _expect_error(raw: bytes) -> Callable[[], object]:
    def run() -> object:
        try:
            decode_event(raw, topic_source="csm")
        except DecodeError as error:
            return error
        raise AssertionError("the malformed event decoded")

    return run


def _work_order_insert() -> Callable[[], bytes]:
    """What the work-order flow does per case action: build the insert and serialise it."""
    expected = json.loads((EXAMPLES_DIR / "command-fsm-work-order-insert.json").read_bytes())
    fields, cause = dict(expected["fields"]), CausedBy(**expected["caused_by"])

    def run() -> bytes:
        return fsm.insert(
            "wm_order",
            fields,
            command_id=expected["command_id"],
            correlation_id=f"case:{CASE_ID}:wo:1",
            caused_by=cause,
        ).to_json()

    return run


def _line(label: str, size: int | None, func: Callable[[], object]) -> None:
    quiet, with_gc = _best_us(func), _best_us(func, with_gc=True)
    size_text = f"{size:>5} B" if size is not None else " " * 7
    print(f"{label:<46} {size_text}  {quiet:6.2f} µs  ({with_gc:6.2f} µs with GC on)")


def main() -> None:
    for name, raw in _case_update_variants().items():
        _line(f"decode  {name}", len(raw), lambda raw=raw: decode_event(raw, topic_source="csm"))
    for name, raw in _malformed().items():
        _line(f"decode  {name}", len(raw), _expect_error(raw))
    _line("build + to_json  fsm wm_order insert", None, _work_order_insert())
    total = 0.0
    examples = event_examples()
    for name, raw in examples.items():
        source = name.split("-")[0]
        us = _best_us(lambda raw=raw, source=source: decode_event(raw, topic_source=source))
        total += us
        print(f"decode  {name:<38} {len(raw):>5} B  {us:6.2f} µs")
    print(f"decode  mean over {len(examples)} examples: {total / len(examples):.2f} µs/event")
    for path in sorted(Path(EXAMPLES_DIR).glob("command-*.json")):
        command = Command.from_json(path.read_bytes())
        print(f"to_json {path.name:<38}          {_best_us(command.to_json):6.2f} µs")
    gc.collect()


if __name__ == "__main__":
    main()
