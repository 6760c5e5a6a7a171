"""Resolve the Kafka broker's jars from Maven Central once per version into a local cache."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

DEFAULT_KAFKA_VERSION = "3.9.1"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
_DONE_MARKER = "resolved.ok"

# The broker's POM never names a logging backend (see docs on Kafka's compileOnly deps);
# without one SLF4J falls back to a no-op logger and a failed start prints nothing.
_LOGGING_3X = (("org.slf4j", "slf4j-reload4j", "1.7.36"), ("ch.qos.reload4j", "reload4j", "1.2.25"))
_LOGGING_4X = tuple(
    ("org.apache.logging.log4j", artifact, "2.24.3") for artifact in ("log4j-api", "log4j-core", "log4j-slf4j-impl")
)


class KafkaJarsError(RuntimeError):
    """The jars could not be resolved (no Maven, no network, unknown version…)."""


def kafka_cache_dir(version: str) -> Path:
    """``$BRIDGE_KAFKA_CACHE/<version>``, else ``~/.cache/csm-fsm-bridge/kafka/<version>``."""
    root = os.environ.get("BRIDGE_KAFKA_CACHE") or Path.home() / ".cache" / "csm-fsm-bridge" / "kafka"
    return Path(root).expanduser() / version


def ensure_kafka_jars(version: str = DEFAULT_KAFKA_VERSION) -> Path:
    """Return the folder holding every jar the broker needs; resolve it first if missing.

    Safe when several processes call it at once: one resolves, the others wait on a file lock.
    """
    cache = kafka_cache_dir(version)
    libs = cache / "libs"
    if (cache / _DONE_MARKER).exists():
        return libs
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / _DONE_MARKER).exists():
            _resolve(version, cache)
    return libs


def java_executable() -> str:
    java = shutil.which("java", path=_java_path())
    if java is None:
        raise KafkaJarsError("`java` (17 or newer) is not on PATH and JAVA_HOME is not set")
    return java


def _java_path() -> str:
    java_home = os.environ.get("JAVA_HOME")
    path = os.environ.get("PATH", "")
    return f"{java_home}/bin{os.pathsep}{path}" if java_home else path


def _resolve(version: str, cache: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaJarsError("Maven (`mvn`) is needed once to fetch the Kafka jars; install it")
    staging = cache / f"libs.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    (cache / "pom.xml").write_text(_pom(version))
    command = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(cache / "pom.xml"),
        f"{DEPENDENCY_PLUGIN}:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0 or not any(staging.glob(f"kafka_2.13-{version}.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stdout + result.stderr)[-4000:]
        raise KafkaJarsError(f"resolving Kafka {version} from Maven Central failed:\n{output}")
    shutil.rmtree(cache / "libs", ignore_errors=True)
    staging.rename(cache / "libs")
    (cache / _DONE_MARKER).write_text(f"kafka_2.13 {version}\n")


def _pom(version: str) -> str:
    logging = _LOGGING_3X if version.startswith(("2.", "3.")) else _LOGGING_4X
    dependencies = [("org.apache.kafka", "kafka_2.13", version), *logging]
    entries = "\n".join(
        f"    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<version>{dep_version}</version></dependency>"
        for group, artifact, dep_version in dependencies
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.csm-fsm-bridge</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{entries}
  </dependencies>
</project>
"""
