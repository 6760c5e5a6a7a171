"""Start a variant as a child process on given topics; each variant is one ``VariantSpec``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class VariantSpec:
    """What to run: a passthrough (``b0``/``b1``) or the bridge on a store, with some mappings."""

    name: str
    kind: str  # "b0" | "b1" | "bridge"
    backend: str = ""  # bridge only: "sqlite" | "postgres"
    links: int = 0  # bridge only: links seeded in the store before the run
    extra_rules: int = 0  # bridge only: irrelevant table maps added to the mappings

    @property
    def is_bridge(self) -> bool:
        return self.kind == "bridge"


@dataclass(frozen=True)
class RunTopics:
    inputs: dict[str, str]  # source system → events topic
    outputs: dict[str, str]  # logical name → topic (the bridge: commands + DLQ; passthroughs: "out")


def output_topics(spec: VariantSpec, prefix: str) -> dict[str, str]:
    if not spec.is_bridge:
        return {"out": f"{prefix}.out"}
    return {name: f"{prefix}.{name}" for name in ("csm_commands", "fsm_commands", "itsm_commands", "dead_letters")}


def start(
    spec: VariantSpec,
    bootstrap: str,
    group: str,
    topics: RunTopics,
    log_path: Path,
    *,
    store_url: str = "",
    mappings_dir: Path | None = None,
    http_port: int | None = None,
) -> subprocess.Popen[bytes]:
    """Launch the variant; a bridge serves its HTTP surface (``/metrics``) on ``http_port``."""
    log = open(log_path, "ab")  # handed to the child, closed with it
    inputs = [topics.inputs[s] for s in ("csm", "fsm", "itsm")]
    if not spec.is_bridge:
        module = {"b0": "raw_passthrough", "b1": "faststream_passthrough"}[spec.kind]
        command = [sys.executable, "-m", f"bench.variants.{module}", bootstrap, group, topics.outputs["out"], *inputs]
        return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    env = {
        **os.environ,
        "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "BRIDGE_CONSUMER__GROUP_ID": group,
        "BRIDGE_STORE__URL": store_url,
        "BRIDGE_MAPPINGS_DIR": str(mappings_dir or ROOT / "mappings"),
        "BRIDGE_HTTP__PORT": str(http_port or free_port()),
        "BRIDGE_LOG_FORMAT": "json",
        "BRIDGE_LOG_LEVEL": "INFO",
        "BRIDGE_TOPICS__CSM_EVENTS": inputs[0],
        "BRIDGE_TOPICS__FSM_EVENTS": inputs[1],
        "BRIDGE_TOPICS__ITSM_EVENTS": inputs[2],
    }
    env.update({f"BRIDGE_TOPICS__{name.upper()}": topic for name, topic in topics.outputs.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def stop(process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
