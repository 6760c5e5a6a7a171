"""`bridge dlq` against the running bridge: list and show, retry after a mapping fix succeeding,
and the replay counter stopping a retry loop (quarantine)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bridge.settings import Settings
from tests.e2e.kafka_io import collect, produce
from tests.fixtures.events import make_event, new_sys_id
from tests.fixtures.kafka import MAPPINGS_DIR, read_to_end, until_consumed
from tests.ops.helpers import acli, acli_json, cli, http_get, running_bridge, wait_until

pytestmark = pytest.mark.kafka

STRICT_MAP = '\n  strict_priority:\n    entries: {"1": "1", "2": "2"}\n'


def _strict_mappings(folder: Path) -> Path:
    """The shipped mappings, but the work order's priority goes through a map without default."""
    shutil.copytree(MAPPINGS_DIR, folder)
    values = folder / "value_maps.yaml"
    values.write_text(values.read_text().replace("value_maps:\n", "value_maps:" + STRICT_MAP, 1))
    maps = folder / "case_to_work_order.yaml"
    maps.write_text(
        maps.read_text().replace(
            "{field: priority, copy: priority}", "{field: priority, copy: priority, value_map: strict_priority}"
        )
    )
    return folder


def _fix(folder: Path) -> None:
    values = folder / "value_maps.yaml"
    values.write_text(values.read_text().replace('{"1": "1", "2": "2"}', '{"1": "1", "2": "2", "3": "3"}'))


async def test_retry_after_a_fix_succeeds_and_the_replay_counter_ends_a_loop(
    bridge_settings: Settings, bridge_env: dict[str, str], tmp_path: Path
) -> None:
    mappings = _strict_mappings(tmp_path / "mappings")
    env = {**bridge_env, "BRIDGE_MAPPINGS_DIR": str(mappings)}
    unmapped = make_event("csm-case-action-create-work-order", sys_id=new_sys_id(), record={"priority": "3"})
    fine = make_event("csm-case-action-create-work-order", sys_id=new_sys_id())
    with running_bridge(env, tmp_path / "bridge.log") as port:
        await produce(bridge_settings, [b'{"not json', unmapped, fine], topic=bridge_settings.topics.csm_events)
        await collect(bridge_settings, bridge_settings.topics.dead_letters, lambda m: len(m) >= 2)

        listed = await acli_json(env, "dlq", "list")
        assert sorted(e["reason_code"] for e in listed) == ["invalid_json", "mapping_error"]
        assert all("payload" not in e for e in listed)  # payloads only on `show`
        by_reason = {e["reason_code"]: e for e in listed}
        shown = await acli_json(env, "dlq", "show", by_reason["mapping_error"]["id"])
        assert json.loads(shown["payload"])["event_id"] == unmapped["event_id"]
        assert shown["headers"]["x-bridge-stage"] == "map"
        assert "mapping_error" in (await acli(env, "dlq", "list")).stdout

        _fix(mappings)
        assert wait_until(
            lambda: json.loads(http_get(port, "/ready")[1])["checks"]["mappings"]["reloads"] == 1, timeout_s=20
        )
        preview = await acli_json(env, "dlq", "retry", "--reason", "mapping_error")
        assert [p["action"] for p in preview["plan"]] == ["retry"] and not preview["executed"]
        assert await acli_json(env, "dlq", "list", "--status", "new") == listed  # a preview changes nothing
        done = await acli_json(env, "dlq", "retry", "--reason", "mapping_error", "--execute")
        assert done["retried"] == 1
        orders = await collect(
            bridge_settings, bridge_settings.topics.fsm_commands, lambda m: len(m) >= 2, timeout_s=30
        )
        assert {json.loads(m.value)["fields"]["initiated_from"] for m in orders} == {unmapped["sys_id"], fine["sys_id"]}
        assert (await acli_json(env, "dlq", "list", "--status", "retried"))[0]["reason_code"] == "mapping_error"

        # invalid JSON stays invalid: each retry dead-letters it again, one count higher
        first = by_reason["invalid_json"]["id"]
        await acli(env, "dlq", "retry", first, "--max-replays", "1", "--execute")
        dlq = await collect(bridge_settings, bridge_settings.topics.dead_letters, lambda m: len(m) >= 3)
        counts = sorted(dict((k, v.decode()) for k, v in m.headers)["x-bridge-replay-count"] for m in dlq)
        assert counts == ["0", "0", "1"]
        [again] = await acli_json(env, "dlq", "list", "--status", "new")
        assert again["replay_count"] == 1
        stopped = await acli_json(env, "dlq", "retry", "--all", "--max-replays", "1", "--execute")
        assert (stopped["retried"], stopped["quarantined"]) == (0, 1)
        [quarantined] = await acli_json(env, "dlq", "list", "--status", "quarantined")
        assert quarantined["id"] == again["id"]
        assert "quarantined" in cli(env, "dlq", "list").stdout  # the real entry point, once
        # The bridge has consumed and committed every input (a re-injected copy included),
        # so whatever it would dead-letter is on the topic: the loop stopped.
        await until_consumed(bridge_settings)
        after = await read_to_end(bridge_settings, bridge_settings.topics.dead_letters)
        assert len(after) == len(dlq) == 3

        purge = await acli_json(env, "dlq", "purge", "--before", "2099-01-01T00:00:00Z")
        assert purge["count"] == 3 and not purge["executed"]
        await acli(env, "dlq", "purge", "--before", "2099-01-01T00:00:00Z", "--execute")
        assert await acli_json(env, "dlq", "list") == []
