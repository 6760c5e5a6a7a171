"""Micro-benchmark: µs per `decode_event` (and per `Command.to_json`) on the contract examples.

Run: `.venv/bin/python -m tests.connectors.bench_decode`. Not a test: timings are printed,
never asserted.
"""

from __future__ import annotations

import timeit
from pathlib import Path

from connectors.common import Command, decode_event
from tests.connectors.examples import EXAMPLES_DIR, event_examples

ROUNDS = 5


def _best_us(func: object, number: int) -> float:
    best = min(timeit.repeat(func, number=number, repeat=ROUNDS))  # type: ignore[arg-type]
    return best / number * 1e6


def main() -> None:
    total = 0.0
    examples = event_examples()
    for name, raw in examples.items():
        source = name.split("-")[0]
        us = _best_us(lambda raw=raw, source=source: decode_event(raw, topic_source=source), 5000)
        total += us
        print(f"decode  {name:<42} {len(raw):>5} B  {us:6.1f} µs")
    print(f"decode  mean over {len(examples)} examples: {total / len(examples):.1f} µs/event")
    for path in sorted(Path(EXAMPLES_DIR).glob("command-*.json")):
        command = Command.from_json(path.read_bytes())
        us = _best_us(command.to_json, 20000)
        print(f"to_json {path.name:<42} {us:6.1f} µs")


if __name__ == "__main__":
    main()
