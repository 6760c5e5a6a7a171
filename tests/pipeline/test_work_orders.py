"""Case ↔ work order flows, each scenario twice: through the batch processor on the real store,
and through the real broker with the bridge application consuming and publishing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.ops.inspect import inspect_case
from bridge.store.engine import create_engine
from bridge.store.migrate import upgrade
from tests.fixtures.events import example, make_event, new_sys_id, ref
from tests.pipeline.harness import Harness

CASE = example("csm-case-action-create-work-order")
CASE_ID = CASE["sys_id"]
ACCOUNT, CONTACT = CASE["record"]["account"]["value"], CASE["record"]["contact"]["value"]


def action(**record: Any) -> dict[str, Any]:
    return make_event("csm-case-action-create-work-order", record=record or None)


def wo_insert_for(command: dict[str, Any], wo_id: str | None = None, **record: Any) -> dict[str, Any]:
    """FSM's answer to our insert command, as the contract says."""
    fields = command["fields"]
    rec = {
        k: (
            ref(v)
            if v
            and k
            in {
                "initiated_from",
                "account",
                "contact",
                "company",
                "caller",
                "asset",
                "partner",
                "partner_contact",
                "location",
                "consumer",
            }
            else v
        )
        for k, v in fields.items()
    }
    rec.update({"number": "WO0010001", "correlation_id": command["correlation_id"], **record})
    return make_event(
        "fsm-work-order-insert", sys_id=wo_id or new_sys_id(), caused_by_command=command["command_id"], record=rec
    )


async def test_create_work_order_carries_the_case_context(h: Harness) -> None:
    result = await h.feed(make_event("csm-case-insert"), action())
    [command] = h.commands(result)
    assert command["target"] == "fsm" and command["table"] == "wm_order"
    assert command["operation"] == "insert" and command["sys_id"] == ""
    assert command["correlation_id"].startswith(f"case:{CASE_ID}:wo:1:")
    fields = command["fields"]
    rec = CASE["record"]
    for field in ("account", "contact", "asset", "partner", "partner_contact"):
        assert fields[field] == rec[field]["value"], field
    assert fields["consumer"] == ""
    assert fields["initiated_from"] == CASE_ID
    assert fields["company"] == ACCOUNT and fields["caller"] == CONTACT
    assert fields["location"] == rec["location"]["value"]
    assert fields["short_description"] == rec["short_description"]
    assert fields["description"] == rec["description"]
    assert fields["priority"] == rec["priority"] and fields["state"] == "draft"
    assert command["caused_by"]["sys_id"] == CASE_ID


async def test_a_redelivered_press_gives_one_work_order(h: Harness) -> None:
    press = action()
    result = await h.feed(press, press)
    assert len(h.commands(result)) == 1
    assert result.outcomes["duplicate"] == 1
    again = await h.feed(press)  # redelivered in a later batch: its key is stored
    assert h.commands(again) == []
    assert again.outcomes == {"in": 1, "duplicate": 1}


async def test_each_press_on_an_unchanged_case_is_a_work_order_of_its_own(h: Harness) -> None:
    """Two presses of "Create Work Order" before anything else changed carry the same
    sys_mod_count and differ by event id: two requests, two work orders, each with its own
    (deterministic) command id and correlation id."""
    first, second = action(), action()
    assert first["sys_mod_count"] == second["sys_mod_count"]
    inserts = h.commands(await h.feed(make_event("csm-case-insert"), first, second))
    assert [c["operation"] for c in inserts] == ["insert", "insert"]
    assert len({c["command_id"] for c in inserts}) == 2
    assert len({c["correlation_id"] for c in inserts}) == 2
    # copies of both presses, together and later: nothing more
    assert h.commands(await h.feed(second, first)) == []


async def test_press_ids_are_deterministic(store_engine: Any, tmp_path: Path) -> None:
    """The same presses on another store (a rebuilt instance, a replay into a fresh store)
    give the same command ids and correlation ids."""
    presses = [make_event("csm-case-insert"), action(), action()]
    url = f"sqlite+aiosqlite:///{tmp_path}/other.db"
    await upgrade(url)
    other = create_engine(url)
    try:
        runs = [await Harness(engine).run(*presses) for engine in (store_engine, other)]
    finally:
        await other.dispose()
    ids = [[(c["command_id"], c["correlation_id"]) for c in run] for run in runs]
    assert ids[0] == ids[1] and len(set(ids[0])) == 2


async def test_an_action_acts_on_the_newest_case_state_the_bridge_knows(h: Harness) -> None:
    """A press carrying an older copy of the case (a dead letter retried, a replay) builds the
    work order from the newest state, not from its own copy."""
    insert = make_event("csm-case-insert", sys_mod_count="1")
    old_press = action(priority="4", short_description="old text")
    old_press["sys_mod_count"] = "1"
    newer = make_event(
        "csm-case-update",
        sys_mod_count="2",
        changed_fields=["priority", "short_description"],
        record={"priority": "1", "short_description": "Printer on fire"},
    )
    await h.feed(insert, newer)
    [command] = h.commands(await h.feed(old_press))
    assert command["fields"]["priority"] == "1"
    assert command["fields"]["short_description"] == "Printer on fire"
    # and a newer state that is closed refuses the old press
    closed = make_event("csm-case-update", sys_mod_count="3", changed_fields=["state"], record={"state": "3"})
    await h.feed(closed)
    commands, result = await h.outcomes(action())
    assert [c["fields"] for c in commands] == [{}] and result.outcomes["refused"] == 1


async def test_fsm_insert_echo_links_the_work_order_to_the_case(h: Harness) -> None:
    [command] = h.commands(await h.feed(make_event("csm-case-insert"), action()))
    wo_id = new_sys_id()
    result = await h.feed(wo_insert_for(command, wo_id))
    notes = h.commands(result)
    assert [n["journal"][0]["element"] for n in notes] == ["work_notes"]
    assert "WO0010001" in notes[0]["journal"][0]["value"] and notes[0]["sys_id"] == CASE_ID
    async with h.engine.connect() as conn:
        view = await inspect_case(conn, "CS0001001")
    assert [wo["sys_id"] for wo in view["work_orders"]] == [wo_id]
    assert view["work_orders"][0]["number"] == "WO0010001"
    assert {c["rule"] for c in view["commands"]} >= {"create_work_order", "work_order_linked"}


async def test_work_order_inserted_by_fsm_itself_is_linked_by_initiated_from(h: Harness) -> None:
    await h.feed(make_event("csm-case-insert"))
    own = make_event(
        "fsm-work-order-insert", sys_id=new_sys_id(), caused_by_command=None, record={"correlation_id": ""}
    )
    await h.feed(own)
    async with h.engine.connect() as conn:
        view = await inspect_case(conn, CASE_ID)
    assert [wo["sys_id"] for wo in view["work_orders"]] == [own["sys_id"]]


async def test_account_and_contact_changed_in_fsm_make_company_and_caller_follow(h: Harness) -> None:
    wo = make_event("fsm-work-order-insert", caused_by_command=None)
    await h.feed(make_event("csm-case-insert"), wo)
    new_account, new_contact = new_sys_id(), new_sys_id()
    change = make_event(
        "fsm-work-order-update",
        sys_id=wo["sys_id"],
        sys_mod_count=4,
        changed_fields=["account", "contact"],
        journal=[],
        record={"account": ref(new_account), "contact": ref(new_contact), "state": "draft"},
    )
    [command] = h.commands(await h.feed(change))
    assert command["operation"] == "update" and command["sys_id"] == wo["sys_id"]
    assert command["fields"] == {"company": new_account, "caller": new_contact}
    # the echo of our own update produces nothing and is counted as an echo
    echo = make_event(
        "fsm-work-order-update",
        sys_id=wo["sys_id"],
        sys_mod_count=5,
        changed_fields=["company", "caller"],
        journal=[],
        caused_by_command=command["command_id"],
        record={
            "account": ref(new_account),
            "contact": ref(new_contact),
            "company": ref(new_account),
            "caller": ref(new_contact),
            "state": "draft",
        },
    )
    result = await h.feed(echo)
    assert h.commands(result) == [] and result.outcomes.get("echo") == 1


async def test_case_changes_reach_open_work_orders_but_never_closed_ones(h: Harness) -> None:
    open_wo = make_event("fsm-work-order-insert", sys_id=new_sys_id(), caused_by_command=None)
    closed_wo = make_event(
        "fsm-work-order-insert",
        sys_id=new_sys_id(),
        caused_by_command=None,
        record={"state": "closed_complete", "number": "WO0010002"},
    )
    await h.feed(make_event("csm-case-insert"), open_wo, closed_wo)
    update = make_event(
        "csm-case-update", sys_mod_count=3, changed_fields=["priority"], journal=[], record={"priority": "1"}
    )
    commands = h.commands(await h.feed(update))
    assert [(c["sys_id"], c["fields"]) for c in commands] == [(open_wo["sys_id"], {"priority": "1"})]


async def test_stale_case_event_is_dropped(h: Harness) -> None:
    open_wo = make_event("fsm-work-order-insert", sys_id=new_sys_id(), caused_by_command=None)
    newer = make_event(
        "csm-case-update", sys_mod_count=5, changed_fields=["priority"], journal=[], record={"priority": "1"}
    )
    older = make_event(
        "csm-case-update", sys_mod_count=4, changed_fields=["priority"], journal=[], record={"priority": "3"}
    )
    await h.feed(make_event("csm-case-insert"), open_wo, newer)
    result = await h.feed(older)
    assert h.commands(result) == [] and result.outcomes.get("stale") == 1


async def test_work_order_news_reach_the_case(h: Harness) -> None:
    wo = make_event("fsm-work-order-insert", caused_by_command=None)
    await h.feed(make_event("csm-case-insert"), wo)
    progress = make_event("fsm-work-order-update", sys_mod_count=3)  # state → wip + a tech note
    notes = [c["journal"][0]["value"] for c in h.commands(await h.feed(progress))]
    assert any("Technician on site" in n for n in notes)
    assert any("work_in_progress" in n.lower() or "work in progress" in n.lower() for n in notes)
    closed = make_event("fsm-work-order-update", sys_mod_count=4, journal=[], record={"state": "closed_complete"})
    closing = h.commands(await h.feed(closed))
    assert len(closing) == 2  # the closing note, then the summary: every work order is closed
    assert all(c["sys_id"] == CASE_ID for c in closing)


async def test_create_work_order_on_a_canceled_case_is_refused_with_a_note(h: Harness) -> None:
    [note] = h.commands(await h.feed(action(state="7")))
    assert note["table"] == "sn_customerservice_case" and note["fields"] == {}
    assert note["journal"][0]["element"] == "work_notes"


async def test_order_case_work_order_gets_a_task_per_open_line(h: Harness) -> None:
    order_case = make_event(
        "csm-case-insert",
        table="sn_order_case",
        sys_id=new_sys_id(),
        record={"sys_class_name": "sn_order_case", "number": "ORDCS0001001"},
    )
    lines = []
    for state in ("new", "work_in_progress", "cancelled", "resolved_accepted"):
        item = make_event("csm-case-insert", table="csm_order_line_item", sys_id=new_sys_id(), record=None)
        item["record"] = {
            "order": "",
            "product": ref(new_sys_id(), "Toner"),
            "quantity": "2",
            "state": "open",
            "ship_to": ref(new_sys_id(), "Acme HQ"),
        }
        line = make_event("csm-case-insert", table="sn_order_case_line", sys_id=new_sys_id())
        line["record"] = {"parent": ref(order_case["sys_id"]), "order_line_item": ref(item["sys_id"]), "state": state}
        lines.append(line)
        await h.feed(item)
    await h.feed(order_case, *lines)
    act = make_event(
        "csm-case-action-create-work-order",
        table="sn_order_case",
        sys_id=order_case["sys_id"],
        record={"sys_class_name": "sn_order_case", "number": "ORDCS0001001"},
    )
    [command] = h.commands(await h.feed(act))
    answer = h.commands(await h.feed(wo_insert_for(command)))
    tasks = [c for c in answer if c["table"] == "wm_task"]
    assert len(tasks) == 2
    assert all("2 × Toner to Acme HQ" in t["fields"]["short_description"] for t in tasks)


async def test_malformed_event_is_dead_lettered_and_the_batch_goes_on(h: Harness) -> None:
    bad_sys_id = make_event("csm-case-insert", sys_id="not-a-sys-id")
    result = await h.feed(b"{not json", bad_sys_id, action())
    assert len(h.commands(result)) == 1
    assert result.outcomes["dead_lettered"] == 2
    reasons = sorted(d["reason_code"] for d in await h.dead_letters())
    assert reasons == ["invalid_json", "invalid_sys_id"]
    # On the broker the two events sit on different partitions: their order is not fixed.
    dlq = {r["headers"]["x-bridge-reason"]: r for r in result.outbox if r["kind"] == "dead_letter"}
    assert dlq["invalid_json"]["payload"] == b"{not json"
