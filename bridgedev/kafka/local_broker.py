"""A real single-node Kafka (KRaft) broker run from Maven Central jars: no Docker, no tarball.

``LocalKafka`` is for development and tests: it formats a fresh temporary data dir, starts
``kafka.Kafka`` on 127.0.0.1 with free ports, waits until a client can talk to it, and
removes everything on stop. It can also stop and start again on the same data and ports.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from aiokafka.admin import AIOKafkaAdminClient

from bridgedev.kafka import _jars as jars
from bridgedev.kafka._broker_files import broker_properties, log_config, log_jvm_flag, new_cluster_id
from bridgedev.kafka._process import kill_gracefully, run_coroutine_blocking, spawn_java

DEFAULT_KAFKA_VERSION = jars.DEFAULT_KAFKA_VERSION
_WORK_DIR_PREFIX = "bridge-kafka-"
JVM_OPTIONS = ("-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Xshare:auto")


class LocalKafkaError(RuntimeError):
    """The local broker could not be prepared or did not become ready."""


class LocalKafka:
    """One local Kafka broker; ``async with LocalKafka() as kafka: kafka.bootstrap_servers``.

    ``stop(keep_data=True)`` then ``start()`` (or ``restart()``) brings the broker back on the
    same data dir and ports, so clients can reconnect to the same bootstrap address.
    """

    def __init__(
        self,
        *,
        version: str = DEFAULT_KAFKA_VERSION,
        port: int | None = None,
        startup_timeout_s: float = 90.0,
    ) -> None:
        self.version = version
        self.startup_timeout_s = startup_timeout_s
        self._requested_port = port
        self._ports: tuple[int, int] | None = None
        self._work_dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:<port>``; valid once started."""
        if self._ports is None:
            raise LocalKafkaError("the broker has not been started")
        return f"127.0.0.1:{self._ports[0]}"

    @property
    def log_file(self) -> Path | None:
        """The broker's console output (WARN and above, plus startup/shutdown lines)."""
        return self._work_dir / "broker.log" if self._work_dir else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self) -> str:
        """Start (or restart on kept data); returns the bootstrap address once it answers."""
        began = time.monotonic()
        await asyncio.to_thread(self._prepare)
        self._spawn()
        await self._wait_ready(began)
        return self.bootstrap_servers

    def start_sync(self) -> str:
        """``start()`` for synchronous callers (works whether or not an event loop is running)."""
        began = time.monotonic()
        self._prepare()
        self._spawn()
        run_coroutine_blocking(self._wait_ready(began))
        return self.bootstrap_servers

    async def stop(self, *, keep_data: bool = False) -> None:
        """SIGTERM, wait, SIGKILL; then delete the data dir unless ``keep_data``."""
        await asyncio.to_thread(self.stop_sync, keep_data=keep_data)

    def stop_sync(self, *, keep_data: bool = False) -> None:
        if self._process is not None:
            kill_gracefully(self._process)
            self._process = None
            _running.discard(self)
        if not keep_data and self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None
            self._ports = None

    async def restart(self) -> str:
        """Stop and start again on the same data dir and ports (messages survive)."""
        await self.stop(keep_data=True)
        return await self.start()

    def _prepare(self) -> None:
        if self.running:
            raise LocalKafkaError("the broker is already running")
        libs = jars.ensure_kafka_jars(self.version)
        if self._work_dir is not None:  # restart on kept data: already formatted
            return
        _remove_orphaned_work_dirs()
        self._ports = (self._requested_port or _free_port(), _free_port())
        self._work_dir = Path(tempfile.mkdtemp(prefix=_WORK_DIR_PREFIX))
        (self._work_dir / "owner.pid").write_text(str(os.getpid()))
        log_name, log_text = log_config(self.version)
        (self._work_dir / log_name).write_text(log_text)
        properties = broker_properties(self._work_dir / "data", *self._ports)
        (self._work_dir / "server.properties").write_text(properties)
        self._run_tool(
            libs,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            new_cluster_id(),
            "-c",
            str(self._work_dir / "server.properties"),
        )

    def _run_tool(self, libs: Path, main_class: str, *args: str) -> None:
        assert self._work_dir is not None
        command = self._java_command(libs, main_class, ("-Xms64m", "-Xmx256m", "-Xshare:auto"))
        result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise LocalKafkaError(f"{main_class} {args[0]} failed:\n{result.stdout}{result.stderr}")

    def _java_command(self, libs: Path, main_class: str, jvm_options: tuple[str, ...]) -> list[str]:
        assert self._work_dir is not None
        return [
            jars.java_executable(),
            *jvm_options,
            log_jvm_flag(self.version, self._work_dir),
            f"-Djava.io.tmpdir={self._work_dir}",
            "-cp",
            f"{libs}/*",
            main_class,
        ]

    def _spawn(self) -> None:
        assert self._work_dir is not None
        libs = jars.ensure_kafka_jars(self.version)  # already resolved by _prepare: a file check
        command = [
            *self._java_command(libs, "kafka.Kafka", JVM_OPTIONS),
            str(self._work_dir / "server.properties"),
        ]
        self._process = spawn_java(command, self._work_dir / "broker.log")
        _running.add(self)

    async def _wait_ready(self, began: float) -> None:
        deadline = began + self.startup_timeout_s
        try:
            await self._wait_for_port(deadline)
            await self._wait_for_metadata(deadline)
        except Exception:  # noqa: BLE001 - whatever stopped it, the log tail says why
            tail = self._log_tail()
            await self.stop(keep_data=False)
            raise LocalKafkaError(f"Kafka {self.version} did not become ready; broker log tail:\n{tail}") from None
        except BaseException:  # cancelled or interrupted: don't leave a half-started broker
            self.stop_sync(keep_data=False)
            raise
        self.startup_seconds = time.monotonic() - began

    async def _wait_for_port(self, deadline: float) -> None:
        assert self._ports is not None
        while True:
            self._check_alive()
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self._ports[0])
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("broker port never opened") from None
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return

    async def _wait_for_metadata(self, deadline: float) -> None:
        while True:
            self._check_alive()
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=5000)
            try:
                await admin.start()
                if (await admin.describe_cluster())["brokers"]:
                    return
            except Exception:
                if time.monotonic() > deadline:
                    raise
            finally:
                await admin.close()
            await asyncio.sleep(0.2)

    def _check_alive(self) -> None:
        if not self.running:
            raise LocalKafkaError("the broker process exited")

    def _log_tail(self, lines: int = 40) -> str:
        if self.log_file is None or not self.log_file.exists():
            return "(no broker log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> Self:
        self.start_sync()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_sync()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.stop()


def _remove_orphaned_work_dirs() -> None:
    """Delete data dirs left by processes that were killed before they could clean up."""
    for work_dir in Path(tempfile.gettempdir()).glob(f"{_WORK_DIR_PREFIX}*"):
        try:
            os.kill(int((work_dir / "owner.pid").read_text()), 0)
        except ProcessLookupError:
            shutil.rmtree(work_dir, ignore_errors=True)
        except (OSError, ValueError):
            continue  # not ours to judge (other user, being created, unreadable)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Strong references: a broker nobody stops must still be stopped when the interpreter exits.
_running: set[LocalKafka] = set()


@atexit.register
def _stop_leftover_brokers() -> None:
    for broker in list(_running):
        broker.stop_sync()
