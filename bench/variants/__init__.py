"""The systems under test, each run as its own process so that its CPU and memory are its own.

- ``raw_passthrough`` (B0) and ``faststream_passthrough`` (B1): copy each input record to one
  output topic as many times as its ``x-bench-fanout`` header says (the bridge's output count
  for that input), forwarding the other headers;
- ``bridge``: the real bridge (``python -m cli run``) configured by environment variables.
"""

from __future__ import annotations

#: How many outputs the bridge produced for an input record (absent: one).
FANOUT_HEADER = "x-bench-fanout"
#: When the paced producer scheduled an input record (ns since the epoch), for latency.
SCHEDULED_HEADER = "x-bench-scheduled-ns"


def fanout(headers: object) -> int:
    for key, value in headers or ():  # type: ignore[attr-defined]
        if key == FANOUT_HEADER:
            return int(value)
    return 1
