"""The files a single-node KRaft broker needs: server.properties, logging config, cluster id."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path


def new_cluster_id() -> str:
    """16 random bytes, base64url, 22 chars; never starting with '-' (argparse would choke)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def broker_properties(data_dir: Path, broker_port: int, controller_port: int) -> str:
    """A combined broker+controller on 127.0.0.1, sized for one node and quick startup."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{broker_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir),
        # Topics are created explicitly (bridge topics create); a typo must not invent one.
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def log_config(version: str) -> tuple[str, str]:
    """(file name, content): console only, WARN, plus the 'Kafka Server started' line."""
    if version.startswith(("2.", "3.")):
        return "log4j.properties", _LOG4J_PROPERTIES
    return "log4j2.xml", _LOG4J2_XML


def log_jvm_flag(version: str, directory: Path) -> str:
    """The ``-D`` option that points the JVM at the file ``log_config`` names, in ``directory``."""
    file_name, _ = log_config(version)
    if file_name == "log4j.properties":
        return f"-Dlog4j.configuration={(directory / file_name).as_uri()}"
    return f"-Dlog4j2.configurationFile={directory / file_name}"


_LOG4J_PROPERTIES = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
"""

_LOG4J2_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="STDOUT"/></Root>
  </Loggers>
</Configuration>
"""
