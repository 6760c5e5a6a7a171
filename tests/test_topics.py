"""Topic definitions (data) and the `bridge topics` commands against a real broker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from bridge.commands.topics import app as topics_app
from bridge.settings import TopicNames, get_settings
from tests.fixtures.kafka import settings_as_env, unique_test_settings
from topics import TopicSpecError, load_topic_specs

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def run_topics() -> Iterator[Any]:
    """Invoke `bridge topics …` with the given environment; returns (exit code, stdout)."""
    runner = CliRunner()

    def run(env: dict[str, str], *args: str) -> tuple[int, str]:
        get_settings.cache_clear()
        result = runner.invoke(topics_app, list(args), env=env)
        return result.exit_code, result.stdout

    yield run
    get_settings.cache_clear()


def test_every_settings_topic_has_a_definition_with_the_same_default_name() -> None:
    specs = {spec.logical_name: spec.name for spec in load_topic_specs()}

    assert specs == TopicNames().model_dump()


def test_dead_letters_are_kept_longer_than_events_and_commands() -> None:
    retention = {spec.logical_name: int(spec.configs["retention.ms"]) for spec in load_topic_specs()}

    assert retention["dead_letters"] >= 30 * DAY_MS
    assert all(retention["dead_letters"] > days for name, days in retention.items() if name != "dead_letters")


def test_config_values_are_strings_even_when_yaml_reads_numbers(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(
        "topics:\n  - {logical_name: a, name: a.b, key: k, description: d,"
        " configs: {retention.ms: 1000, preallocate: true}}\n"
    )

    (spec,) = load_topic_specs(path)

    assert dict(spec.configs) == {"retention.ms": "1000", "preallocate": "true"}
    assert (spec.partitions, spec.replication_factor) == (3, 3)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("topics: [{logical_name: a, name: 'bad name', key: k, description: d}]", r"topics\.0\.name"),
        ("topics: [{logical_name: a, name: a, key: k, description: d, partitions: 0}]", r"partitions"),
        ("topics: [{logical_name: a, name: a, key: k, description: d, colour: red}]", r"colour"),
        (
            "topics: [{logical_name: a, name: x, key: k, description: d},"
            " {logical_name: b, name: x, key: k, description: d}]",
            r"duplicate name: x",
        ),
        ("topics: [unclosed", r"cannot read"),
        ("defaults: {partitions: 3}", r"topics"),
    ],
)
def test_invalid_definitions_are_rejected_with_the_offending_path(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(content)

    with pytest.raises(TopicSpecError, match=expected):
        load_topic_specs(path)


def test_topics_package_does_not_import_bridge() -> None:
    check = (
        "import sys, topics; topics.load_topic_specs(); print(sorted(m for m in sys.modules if m.startswith('bridge')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    ).stdout

    assert output.strip() == "[]"


@pytest.mark.kafka
def test_topics_create_is_idempotent(kafka_bootstrap: str, tmp_path: Path, run_topics: Any) -> None:
    env = settings_as_env(unique_test_settings(kafka_bootstrap, tmp_path))

    first_code, first = run_topics(env, "create", "--json")
    second_code, second = run_topics(env, "create", "--json")

    assert (first_code, second_code) == (0, 0)
    assert {row["status"] for row in json.loads(first)} == {"created"}
    assert {row["status"] for row in json.loads(second)} == {"exists"}
    assert [row["name"] for row in json.loads(first)] == [
        env[f"BRIDGE_TOPICS__{row['logical_name'].upper()}"] for row in json.loads(first)
    ]
    assert {(row["partitions"], row["replication_factor"]) for row in json.loads(second)} == {(3, 1)}


@pytest.mark.kafka
def test_topics_list_shows_partitions_and_growing_end_offsets(
    kafka_bootstrap: str, tmp_path: Path, run_topics: Any
) -> None:
    settings = unique_test_settings(kafka_bootstrap, tmp_path)
    env = settings_as_env(settings)
    before_code, before = run_topics(env, "list", "--json")
    run_topics(env, "create")

    asyncio.run(_produce(kafka_bootstrap, settings.topics.csm_events, count=7))
    code, listed = run_topics(env, "list", "--json")

    assert (before_code, code) == (0, 0)
    assert not any(topic["exists"] for topic in json.loads(before))
    topics = {topic["logical_name"]: topic for topic in json.loads(listed)}
    assert all(topic["exists"] and len(topic["partitions"]) == 3 for topic in topics.values())
    assert topics["csm_events"]["end_offset_total"] == 7
    assert sum(p["end_offset"] for p in topics["csm_events"]["partitions"]) == 7
    assert all(topic["end_offset_total"] == 0 for name, topic in topics.items() if name != "csm_events")


@pytest.mark.kafka
def test_topics_list_prints_a_table_for_humans(bridge_env: dict[str, str], run_topics: Any) -> None:
    code, output = run_topics({**bridge_env, "COLUMNS": "200"}, "list")

    assert code == 0
    assert bridge_env["BRIDGE_TOPICS__DEAD_LETTERS"] in output
    assert "0:0 1:0 2:0" in output


def test_unreachable_kafka_fails_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    env = settings_as_env(unique_test_settings("127.0.0.1:1", tmp_path))
    get_settings.cache_clear()
    result = CliRunner().invoke(topics_app, ["list", "--json"], env=env)
    get_settings.cache_clear()

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: nothing accepts connections at 127.0.0.1:1: check "
        "BRIDGE_KAFKA__BOOTSTRAP_SERVERS and that the broker is running"
    )


async def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for number in range(count):
            await producer.send_and_wait(topic, b"{}", key=f"record-{number}".encode())
    finally:
        await producer.stop()
