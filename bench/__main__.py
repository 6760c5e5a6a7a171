"""``python -m bench [--quick] [--bootstrap HOST:PORT] [--events N] [--blocks N] [--no-postgres]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.config import FULL, QUICK, BenchConfig
from bench.harness import run_benchmark
from bench.report import write_all
from bench.summary import summarize


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run (a minute or two)")
    parser.add_argument("--bootstrap", help="an existing broker (default: start a LocalKafka)")
    parser.add_argument("--postgres-url", help="an existing PostgreSQL superuser URL (postgresql+asyncpg://…)")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL variant")
    parser.add_argument("--events", type=int, help="workload changes after the population")
    parser.add_argument("--size", help="simulator population size (tiny, small, medium)")
    parser.add_argument("--blocks", type=int, help="blocks of runs (ABBA: use an even number)")
    parser.add_argument("--links", help="store sizes compared, e.g. 10000,1000000")
    parser.add_argument("--latency-seconds", type=float)
    parser.add_argument("--out", type=Path, help="results folder (default: bench/results)")
    args = parser.parse_args(argv)
    # aiokafka warns on every retried produce while a fresh topic elects its leaders
    logging.basicConfig(level=logging.ERROR)
    config = QUICK if args.quick else FULL
    overrides = {
        "bootstrap": args.bootstrap,
        "postgres_url": args.postgres_url,
        "events": args.events,
        "size": args.size,
        "blocks": args.blocks,
        "latency_seconds": args.latency_seconds,
        "out_dir": args.out,
        "links": tuple(int(n) for n in args.links.split(",")) if args.links else None,
    }
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if args.no_postgres:
        config = replace(config, postgres=False)
    results = asyncio.run(_interruptible(config))
    results["summary"] = summarize(results)
    for path in write_all(results, config.out_dir):
        print(f"wrote {path}")


async def _interruptible(config: BenchConfig) -> dict[str, Any]:
    """SIGTERM (or SIGINT, even when a background shell ignores it) cancels the run, so that its
    broker, PostgreSQL and variant processes are stopped on the way out."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    return await run_benchmark(config)


if __name__ == "__main__":
    main()
