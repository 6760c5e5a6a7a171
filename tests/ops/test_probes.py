"""Probes that tell the truth, on the real broker, store and HTTP: `bridge run` waits for the
broker and the store and gives up with one line at its deadline; /health fails while the event
loop is blocked; a partition that holds still with lag, and a store that cannot be written,
make /ready, /metrics and `bridge status` say so, naming them, until the stream moves again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
import uvicorn

from bridge.app import Bridge, create_bridge
from bridge.kafka.admin import create_topics
from bridge.settings import ProbeSettings, Settings
from bridgedev.kafka.local_broker import LocalKafka
from tests.e2e.kafka_io import collect, produce
from tests.fixtures.events import make_event, new_sys_id
from tests.fixtures.kafka import MAPPINGS_DIR, settings_as_env, unique_test_settings
from tests.ops.helpers import acli, free_port, http_get, running_bridge, wait_until

STARTUP_FAILED = 3
SECRET = "Canary-Pa55word-9c1e"


def _run(env: dict[str, str], timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    env = {"BRIDGE_HTTP__PORT": str(free_port()), **env}
    return subprocess.run(
        [sys.executable, "-m", "cli", "run"],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "BRIDGE_LOG_FORMAT": "json", **env},
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    """What the operator reads: the one line on stderr that is not a JSON log line."""
    [line] = [line for line in done.stderr.splitlines() if not line.startswith("{")]
    return line


def _waiting_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "startup.waiting"]


def test_run_without_a_broker_gives_up_at_the_deadline_with_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    done = _run(
        {
            "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "BRIDGE_PROBES__STARTUP_DEADLINE_S": "3",
            "BRIDGE_STORE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}",
            "BRIDGE_MAPPINGS_DIR": str(MAPPINGS_DIR),
        }
    )
    assert done.returncode == STARTUP_FAILED
    assert time.monotonic() - started < 60  # gave up; did not hang
    last = _one_line(done)
    assert last == (
        "error: cannot reach the Kafka broker at 127.0.0.1:1 "
        "(BRIDGE_KAFKA__BOOTSTRAP_SERVERS) within 3 s "
        "(BRIDGE_PROBES__STARTUP_DEADLINE_S): nothing accepts connections at "
        "127.0.0.1:1: check BRIDGE_KAFKA__BOOTSTRAP_SERVERS and that the broker is running"
    )
    attempts = _waiting_lines(done.stderr)
    assert [a["attempt"] for a in attempts] == list(range(1, len(attempts) + 1))
    assert len(attempts) >= 2 and all(a["setting"] == "BRIDGE_KAFKA__BOOTSTRAP_SERVERS" for a in attempts)
    assert "Traceback" not in done.stderr and not (tmp_path / "bridge.db").exists()


@pytest.mark.parametrize(
    ("env", "code", "line"),
    [
        # refused by the settings themselves: a configuration error (2), before anything starts
        (
            {"BRIDGE_STORE__URL": "nonsense"},
            2,
            "error: BRIDGE_STORE__URL: not a URL; expected sqlite+aiosqlite:///FILE or "
            "postgresql+asyncpg://HOST[:PORT]/DATABASE (user and password before the host)",
        ),
        (
            {"BRIDGE_KAFKA__SECURITY_PROTOCOL": "SSL", "BRIDGE_KAFKA__SSL_CAFILE": "/nowhere/ca.pem"},
            2,
            "error: BRIDGE_KAFKA__SSL_CAFILE: no such file: /nowhere/ca.pem",
        ),
        # valid settings the start cannot use: a failed start (3), at once
        (
            {"BRIDGE_STORE__URL": "sqlite+aiosqlite:////nowhere/bridge.db"},
            STARTUP_FAILED,
            "error: cannot use the settings BRIDGE_STORE__URL: no such directory (/nowhere)",
        ),
    ],
)
def test_run_fails_at_once_on_what_waiting_cannot_mend(env: dict[str, str], code: int, line: str) -> None:
    done = _run(
        {"BRIDGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "BRIDGE_PROBES__STARTUP_DEADLINE_S": "300", **env},
        timeout_s=60,
    )
    assert done.returncode == code
    assert _one_line(done) == line
    assert _waiting_lines(done.stderr) == []


@pytest.mark.kafka
def test_run_without_its_database_names_the_setting_never_the_password(kafka_bootstrap: str) -> None:
    url = f"postgresql+asyncpg://bridge:{SECRET}@127.0.0.1:{free_port()}/bridge"
    done = _run(
        {
            "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
            "BRIDGE_STORE__URL": url,
            "BRIDGE_PROBES__STARTUP_DEADLINE_S": "3",
        }
    )
    assert done.returncode == STARTUP_FAILED
    last = _one_line(done)
    assert last.startswith("error: cannot reach the store (BRIDGE_STORE__URL) within 3 s")
    assert [a["setting"] for a in _waiting_lines(done.stderr)][:2] == ["BRIDGE_STORE__URL"] * 2
    assert SECRET not in done.stderr + done.stdout


@pytest.mark.kafka
async def test_run_waits_for_a_broker_that_comes_late(tmp_path: Path) -> None:
    port = free_port()
    settings = unique_test_settings(f"127.0.0.1:{port}", tmp_path)
    env = {**settings_as_env(settings), "BRIDGE_PROBES__STARTUP_DEADLINE_S": "300"}
    log = tmp_path / "bridge.log"
    with running_bridge(env, log, started=lambda: "startup.waiting" in log.read_text()) as http_port:
        async with LocalKafka(port=port):
            await create_topics(settings)
            assert await asyncio.to_thread(wait_until, lambda: _answers(http_port, "/ready"), timeout_s=120), (
                log.read_text()[-3000:]
            )
    assert "startup.reached" in log.read_text()


def _answers(port: int, path: str) -> bool:
    try:
        return http_get(port, path, timeout=10)[0] == 200
    except OSError:  # not listening yet
        return False


# -- /health and the event loop -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[tuple[Bridge, str]]:
    """The bridge in this process (its event loop is the test's), on a free HTTP port."""
    bridge = create_bridge(settings)
    server = uvicorn.Server(uvicorn.Config(bridge.asgi, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(90):
            while not bridge.consumer.running:  # FastStream starts it after the ASGI start-up
                assert not task.done(), "the bridge stopped while starting"
                await asyncio.sleep(0.05)
        yield bridge, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)


@pytest.mark.kafka
async def test_health_fails_while_and_after_the_event_loop_is_blocked(bridge_settings: Settings) -> None:
    settings = bridge_settings.model_copy(update={"probes": ProbeSettings(loop_blocked_s=3.0)})
    async with _serving(settings) as (_bridge, base), httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def healthy() -> None:  # a busy machine may stall the loop a moment: wait it out
            async with asyncio.timeout(30):
                while (await client.get("/health")).status_code != 200:
                    await asyncio.sleep(0.5)

        await healthy()
        time.sleep(8)  # a synchronous call that does not return: the loop stands still
        blocked = await client.get("/health")
        assert blocked.status_code == 503
        assert blocked.json()["error"] == "EventLoopBlocked"
        assert "event loop" in blocked.json()["why"] and "limit 3 s" in blocked.json()["why"]
        ready = (await client.get("/ready")).json()
        assert ready["checks"]["alive"]["ok"] is False  # not ready either
        [blocks] = [
            line
            for line in (await client.get("/metrics")).text.splitlines()
            if line.startswith("bridge_event_loop_blocks_total ")
        ]
        assert float(blocks.split()[1]) >= 1
        await healthy()  # a block that ended is forgotten after the limit


# -- a stalled partition, a store that cannot be written ----------------------------------------


def _json(port: int, path: str) -> tuple[int, dict[str, Any]]:
    status, body = http_get(port, path, timeout=15)
    return status, json.loads(body)


def _metric(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


@pytest.mark.kafka
async def test_a_partition_held_by_a_locked_store_is_named_until_it_moves(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **bridge_env,
        "BRIDGE_PROBES__STALL_AFTER_S": "3",
        "BRIDGE_PROBES__STORE_FAILING_S": "3",
        "BRIDGE_STORE__BUSY_TIMEOUT_MS": "200",
    }
    topic = bridge_settings.topics.csm_events
    events = [make_event("csm-case-action-create-work-order", sys_id=new_sys_id()) for _ in range(3)]
    with running_bridge(env, tmp_path / "bridge.log") as port:
        status_env = {**env, "BRIDGE_HTTP__PORT": str(port)}
        assert (await acli(status_env, "status", "--json")).returncode == 0
        database = str(tmp_path / "bridge.db")
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the store's write lock
        try:
            await produce(bridge_settings, events)

            def stalled() -> dict[str, Any] | None:
                status, body = _json(port, "/ready")
                partitions = body["checks"]["partitions"]
                writes = body["checks"]["store_writes"]
                return body if status == 503 and partitions["stalled"] and not writes["ok"] else None

            report = await asyncio.to_thread(wait_until, stalled, 60)
            assert report, _json(port, "/ready")
            stalls = report["checks"]["partitions"]["stalled"]
            assert {s["topic"] for s in stalls} == {topic}
            assert sum(s["lag"] for s in stalls) == len(events)
            assert all(s["stalled_for_s"] >= 3 for s in stalls)
            assert {s["last_error"]["error_class"] for s in stalls} == {"OperationalError"}
            names = report["checks"]["partitions"]["error"]
            assert all(f"{topic}[{s['partition']}]" in names for s in stalls)
            assert report["checks"]["store_writes"]["error_class"] == "OperationalError"
            assert report["checks"]["store"]["ok"]  # it can be read, just not written

            metrics = http_get(port, "/metrics")[1].decode()
            for s in stalls:
                assert (f'bridge_partition_stalled{{partition="{s["partition"]}",topic="{topic}"}} 1.0') in metrics
            assert "bridge_store_write_failing 1.0" in metrics

            degraded = await acli(status_env, "status", "--json", check=False)
            assert degraded.returncode == 1, degraded.stdout
            data = json.loads(degraded.stdout)
            assert data["state"] == "degraded"
            assert {(s["topic"], s["partition"]) for s in data["stalled"]} == {
                (s["topic"], s["partition"]) for s in stalls
            }
            assert any(p.startswith("partitions: not moving with lag") for p in data["problems"])
            text = (await acli(status_env, "status", check=False)).stdout
            assert "DEGRADED" in text and "Stalled partitions" in text and topic in text
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        def moving() -> dict[str, Any] | None:
            status, body = _json(port, "/ready")
            return body if status == 200 else None

        recovered = await asyncio.to_thread(wait_until, moving, 90)
        assert recovered, _json(port, "/ready")
        assert recovered["checks"]["partitions"]["stalled"] == []
        commands = await collect(bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= len(events))
        assert len(commands) == len(events)
        assert _metric(http_get(port, "/metrics")[1].decode(), "bridge_store_write_failing ") == [
            "bridge_store_write_failing 0.0"
        ]
        assert (await acli(status_env, "status", "--json")).returncode == 0

        invalid = tmp_path / "invalid-mappings"
        invalid.mkdir()
        (invalid / "broken.yaml").write_text("version: [\n")
        folder = await acli({**status_env, "BRIDGE_MAPPINGS_DIR": str(invalid)}, "status", "--json", check=False)
        assert folder.returncode == 1
        assert json.loads(folder.stdout)["problems"][0].startswith("mappings: the folder is")

    gone = await acli(status_env, "status", "--json", check=False)  # the bridge stopped
    assert gone.returncode == 2 and json.loads(gone.stdout)["state"] == "down"
    assert "bridge: no answer on its HTTP port" in json.loads(gone.stdout)["problems"]
    no_broker = await acli(
        {**status_env, "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"}, "status", "--json", check=False
    )
    assert no_broker.returncode == 2
    assert json.loads(no_broker.stdout)["problems"][0].startswith("broker: not reachable")


@pytest.mark.kafka
def test_run_with_invalid_mappings_exits_with_one_line_and_no_traceback(kafka_bootstrap: str, tmp_path: Path) -> None:
    invalid = tmp_path / "mappings"
    invalid.mkdir()
    (invalid / "broken.yaml").write_text("version: [\n")
    settings = unique_test_settings(kafka_bootstrap, tmp_path)
    done = _run({**settings_as_env(settings), "BRIDGE_MAPPINGS_DIR": str(invalid)})
    assert done.returncode == STARTUP_FAILED
    last = _one_line(done)
    assert last.startswith(
        f"error: the mappings in {invalid} (BRIDGE_MAPPINGS_DIR) are invalid: 1 error(s), the first: "
    )
    assert "broken.yaml:2:1: error[yaml-syntax]" in last
    assert "Traceback" not in done.stderr and not (tmp_path / "bridge.db").exists()


@pytest.mark.kafka
def test_a_start_that_fails_inside_the_application_is_one_line_and_no_traceback(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = unique_test_settings(kafka_bootstrap, tmp_path)
    store = sqlite3.connect(tmp_path / "bridge.db")  # a store migrated by a newer release
    store.executescript(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('9999_from_the_future');"
    )
    store.close()
    done = _run(settings_as_env(settings))
    assert done.returncode == STARTUP_FAILED
    assert _one_line(done) == "error: the bridge failed to start: CommandError"
    assert "Traceback" not in done.stderr
    [line] = [json.loads(line) for line in done.stderr.splitlines() if '"bridge.start_failed"' in line]
    assert line["error_class"] == "CommandError" and line["level"] == "error"


@pytest.mark.kafka
def test_a_port_that_is_taken_is_named(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = unique_test_settings(kafka_bootstrap, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run({**settings_as_env(settings), "BRIDGE_HTTP__PORT": str(port)})
    assert done.returncode == STARTUP_FAILED
    assert _one_line(done) == (
        f"error: the bridge failed to start: cannot listen on 127.0.0.1:{port} "
        "(BRIDGE_HTTP__HOST, BRIDGE_HTTP__PORT): the address is taken or not this machine's"
    )


def test_a_file_that_is_no_database_is_named_at_once(tmp_path: Path) -> None:
    store = tmp_path / "bridge.db"
    store.write_bytes(b"this is not a database, but it is where the store should be" * 100)
    done = _run(
        {
            "BRIDGE_STORE__URL": f"sqlite+aiosqlite:///{store}",
            "BRIDGE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "BRIDGE_MAPPINGS_DIR": str(MAPPINGS_DIR),
        },
        timeout_s=60,
    )
    assert done.returncode == STARTUP_FAILED
    assert _one_line(done) == "error: cannot use the store (BRIDGE_STORE__URL): DatabaseError"
