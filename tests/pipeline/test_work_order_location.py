"""The work order's location follows one rule, at creation and after: the affected CI's site,
else the caller's (the case's contact's) location, else the case's own location.

Each scenario runs on the real batch processor and store, and again through a real broker with
the bridge application (``h``). Events of different records are fed one batch after the other
where their order matters (on the broker they sit on different partitions).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

from bridge.mapping import load_mapping_set
from bridge.pipeline.records import RawRecord
from bridgedev.simulate import Responders, SimMessage, SimWorld, Workload, population_messages
from connectors.catalog import TABLES
from tests.fixtures.events import example, make_event, new_sys_id, ref
from tests.pipeline.harness import MAPPINGS, Harness

CASE_ID = example("csm-case-insert")["sys_id"]
ACCOUNT = example("csm-case-insert")["record"]["account"]["value"]
CONTACT = example("csm-contact-insert")["sys_id"]
CASE_PLACE = example("csm-case-insert")["record"]["location"]["value"]  # Acme HQ
WO_REFS = TABLES["wm_order"].references
CLOSED = "closed_complete"


def place() -> str:
    return new_sys_id()


class Case:
    """CSM's case, as its events tell it: every change bumps ``sys_mod_count``."""

    def __init__(self, **fields: Any) -> None:
        self.record = copy.deepcopy(example("csm-case-insert")["record"])
        self.record.update(fields)
        self.count = 0

    def insert(self) -> dict[str, Any]:
        event = make_event("csm-case-insert")
        event["record"] = copy.deepcopy(self.record)
        return event

    def update(self, **fields: Any) -> dict[str, Any]:
        self.count += 1
        self.record.update(fields)
        event = make_event("csm-case-update", sys_mod_count=self.count, changed_fields=list(fields), journal=[])
        event["record"] = copy.deepcopy(self.record)
        return event

    def press(self) -> dict[str, Any]:
        """An agent presses "Create Work Order" (an action carries the current count)."""
        event = make_event("csm-case-action-create-work-order", sys_mod_count=self.count)
        event["record"] = copy.deepcopy(self.record)
        return event


class Record:
    """A CSM contact or an ITSM CI, as its events tell it."""

    def __init__(self, table: str, sys_id: str | None = None, **fields: Any) -> None:
        self.table, self.sys_id, self.count = table, sys_id or new_sys_id(), 0
        if table == "customer_contact":
            self.record = copy.deepcopy(example("csm-contact-insert")["record"])
        else:
            self.record = {
                "name": "PRN-3F",
                "company": ref(ACCOUNT, "Acme Corp"),
                "operational_status": "1",
                "location": "",
            }
        self.record.update(fields)

    def insert(self) -> dict[str, Any]:
        return self._event("insert", [])

    def update(self, **fields: Any) -> dict[str, Any]:
        self.count += 1
        self.record.update(fields)
        return self._event("update", list(fields))

    def delete(self) -> dict[str, Any]:
        self.count += 1
        return self._event("delete", [])

    def _event(self, operation: str, changed: list[str]) -> dict[str, Any]:
        event = make_event(
            "csm-contact-insert",
            table=self.table,
            sys_id=self.sys_id,
            operation=operation,
            sys_mod_count=self.count,
            changed_fields=changed,
        )
        event["source"] = TABLES[self.table].system
        event["record"] = copy.deepcopy(self.record)
        return event


def contact(location: str = "", sys_id: str = CONTACT) -> Record:
    return Record("customer_contact", sys_id, location=ref(location, "Home") if location else "")


def ci(site: str = "") -> Record:
    return Record("cmdb_ci", location=ref(site, "Floor 3") if site else "")


class WorkOrder:
    """FSM's work order: inserted for our command, then changed by our updates (echoes) or by
    FSM's own people."""

    def __init__(self, command: dict[str, Any] | None = None, **fields: Any) -> None:
        self.sys_id, self.count = new_sys_id(), 0
        self.record = copy.deepcopy(example("fsm-work-order-insert")["record"])
        self.record.update(cmdb_ci="", correlation_id="")
        self.command = command
        if command is not None:
            self._apply(command["fields"])
            self.record["correlation_id"] = command["correlation_id"]
        self.record.update(fields)

    @property
    def location(self) -> str:
        value = self.record["location"]
        return value["value"] if value else ""

    def insert(self) -> dict[str, Any]:
        event = make_event(
            "fsm-work-order-insert",
            sys_id=self.sys_id,
            caused_by_command=self.command["command_id"] if self.command else None,
        )
        event["record"] = copy.deepcopy(self.record)
        return event

    def echo(self, command: dict[str, Any]) -> dict[str, Any]:
        """FSM applied our update: its event names our command."""
        assert command["sys_id"] == self.sys_id and command["operation"] == "update"
        return self._update(command["fields"], caused_by=command["command_id"])

    def change(self, **fields: str) -> dict[str, Any]:
        """Someone in FSM changed the work order."""
        return self._update(fields, caused_by=None)

    def _update(self, fields: dict[str, str], caused_by: str | None) -> dict[str, Any]:
        self.count += 1
        self._apply(fields)
        event = make_event(
            "fsm-work-order-update",
            sys_id=self.sys_id,
            sys_mod_count=self.count,
            changed_fields=list(fields),
            journal=[],
            caused_by_command=caused_by,
        )
        event["record"] = copy.deepcopy(self.record)
        return event

    def _apply(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            self.record[name] = ref(value) if value and name in WO_REFS else value


def updates(commands: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """The work-order updates among the commands: (work order, fields)."""
    return [(c["sys_id"], c["fields"]) for c in commands if c["table"] == "wm_order" and c["operation"] == "update"]


async def created(h: Harness, case: Case, *before: dict[str, Any]) -> tuple[WorkOrder, dict]:
    """The related records (each its own batch), the case, a press, FSM's insert: the open
    work order and the insert command."""
    for event in before:
        await h.feed(event)
    await h.feed(case.insert())
    [insert] = [c for c in await h.run(case.press()) if c["operation"] == "insert"]
    wo = WorkOrder(insert)
    answer = await h.run(wo.insert())
    assert updates(answer) == [], "the work order was created right: nothing to correct"
    return wo, insert


# -- at creation -----------------------------------------------------------------------------


async def test_at_creation_the_ci_site_comes_first(h: Harness) -> None:
    site, home = place(), place()
    printer = ci(site)
    _, insert = await created(h, Case(cmdb_ci=ref(printer.sys_id)), contact(home).insert(), printer.insert())
    assert insert["fields"]["location"] == site
    assert insert["fields"]["cmdb_ci"] == printer.sys_id


async def test_at_creation_without_a_ci_the_callers_location(h: Harness) -> None:
    home = place()
    _, insert = await created(h, Case(), contact(home).insert())
    assert (insert["fields"]["location"], insert["fields"]["caller"]) == (home, CONTACT)


async def test_at_creation_without_a_caller_location_the_cases_location(h: Harness) -> None:
    _, insert = await created(h, Case(), contact("").insert())
    assert insert["fields"]["location"] == CASE_PLACE


async def test_at_creation_a_consumer_case_takes_the_cases_location(h: Harness) -> None:
    """No contact, no caller: the consumer's own location does not count (the caller follows
    the contact), the case's location does."""
    consumer = Record("csm_consumer", name="Sam", email="sam@mail.example", location=ref(place(), "Sam's flat"))
    case = Case(account="", contact="", consumer=ref(consumer.sys_id, "Sam"))
    _, insert = await created(h, case, consumer.insert())
    assert insert["fields"]["location"] == CASE_PLACE and insert["fields"]["caller"] == ""


# -- the CI arrives after the case -----------------------------------------------------------


async def test_a_ci_arriving_after_the_case_moves_its_open_work_order_to_the_site(h: Harness) -> None:
    home, site = place(), place()
    printer = ci(site)
    wo, insert = await created(h, Case(cmdb_ci=ref(printer.sys_id)), contact(home).insert())
    assert insert["fields"]["location"] == home  # the CI is not known yet
    [command] = await h.run(printer.insert())
    assert updates([command]) == [(wo.sys_id, {"location": site})]
    assert command["caused_by"]["table"] == "cmdb_ci"
    assert await h.run(wo.echo(command)) == []  # the echo changes nothing more


async def test_a_ci_arriving_while_the_insert_is_on_its_way_corrects_the_new_work_order(h: Harness) -> None:
    home, site = place(), place()
    printer = ci(site)
    case = Case(cmdb_ci=ref(printer.sys_id))
    await h.feed(contact(home).insert())
    await h.feed(case.insert())
    [insert] = await h.run(case.press())
    assert insert["fields"]["location"] == home
    assert await h.run(printer.insert()) == []  # no work order to move yet
    wo = WorkOrder(insert)
    answer = await h.run(wo.insert())
    assert updates(answer) == [(wo.sys_id, {"location": site})]
    [fix] = [c for c in answer if c["table"] == "wm_order"]
    assert await h.run(wo.echo(fix)) == []  # one correction, no loop


# -- re-derivation on open work orders -------------------------------------------------------


async def test_a_changed_case_ci_moves_the_work_order_and_its_links(h: Harness) -> None:
    home, site, other_site = place(), place(), place()
    first, second = ci(site), ci(other_site)
    case = Case(cmdb_ci=ref(first.sys_id))
    wo, _ = await created(h, case, contact(home).insert(), first.insert(), second.insert())
    [command] = await h.run(case.update(cmdb_ci=ref(second.sys_id)))
    assert updates([command]) == [(wo.sys_id, {"cmdb_ci": second.sys_id, "location": other_site})]
    await h.feed(wo.echo(command))
    # the old CI feeds the work order no more; the new one does
    assert await h.run(first.update(location=ref(place()))) == []
    moved = place()
    assert updates(await h.run(second.update(location=ref(moved)))) == [(wo.sys_id, {"location": moved})]
    # no CI any more: the caller's location
    [cleared] = await h.run(case.update(cmdb_ci=""))
    assert updates([cleared]) == [(wo.sys_id, {"cmdb_ci": "", "location": home})]


async def test_a_ci_site_change_reaches_the_open_work_order(h: Harness) -> None:
    site, moved = place(), place()
    printer = ci(site)
    wo, _ = await created(h, Case(cmdb_ci=ref(printer.sys_id)), contact(place()).insert(), printer.insert())
    [command] = await h.run(printer.update(location=ref(moved)))
    assert updates([command]) == [(wo.sys_id, {"location": moved})]
    assert await h.run(wo.echo(command)) == []
    # what the rule does not read changes nothing; nor does the site the work order has
    assert await h.run(printer.update(name="PRN-3F-renamed", operational_status="2")) == []
    assert await h.run(printer.update(location=ref(moved, "Floor 3 (again)"))) == []


async def test_a_deleted_ci_leaves_the_callers_location(h: Harness) -> None:
    home, site = place(), place()
    printer = ci(site)
    wo, _ = await created(h, Case(cmdb_ci=ref(printer.sys_id)), contact(home).insert(), printer.insert())
    assert updates(await h.run(printer.delete())) == [(wo.sys_id, {"location": home})]


async def test_a_contact_change_moves_caller_and_location(h: Harness) -> None:
    home, other_home = place(), place()
    other = contact(other_home, sys_id=new_sys_id())
    case = Case()
    wo, _ = await created(h, case, contact(home).insert(), other.insert())
    [command] = await h.run(case.update(contact=ref(other.sys_id, "Grace Hopper")))
    assert updates([command]) == [
        (wo.sys_id, {"contact": other.sys_id, "caller": other.sys_id, "location": other_home})
    ]
    await h.feed(wo.echo(command))
    # the old contact feeds the work order no more; the new one does
    assert await h.run(contact(place()).update(location=ref(place()))) == []
    moved = place()
    assert updates(await h.run(other.update(location=ref(moved)))) == [(wo.sys_id, {"location": moved})]


async def test_a_contact_change_under_a_ci_moves_the_caller_only(h: Harness) -> None:
    site = place()
    printer, other = ci(site), contact(place(), sys_id=new_sys_id())
    case = Case(cmdb_ci=ref(printer.sys_id))
    wo, _ = await created(h, case, contact(place()).insert(), other.insert(), printer.insert())
    [command] = await h.run(case.update(contact=ref(other.sys_id)))
    assert updates([command]) == [(wo.sys_id, {"contact": other.sys_id, "caller": other.sys_id})]
    assert wo.location == site


async def test_a_contact_location_change_reaches_the_open_work_order(h: Harness) -> None:
    home, moved = place(), place()
    ada = contact(home)
    wo, _ = await created(h, Case(), ada.insert())
    [command] = await h.run(ada.update(location=ref(moved)))
    assert updates([command]) == [(wo.sys_id, {"location": moved})]
    assert await h.run(wo.echo(command)) == []
    assert await h.run(ada.update(roles="customer")) == []  # not what the rule reads
    # the contact loses its location: the case's own
    assert updates(await h.run(ada.update(location=""))) == [(wo.sys_id, {"location": CASE_PLACE})]


async def test_an_input_going_there_and_back_before_fsm_answers_is_not_lost(h: Harness) -> None:
    """Home → office → home while the first command is still on its way: the work order still
    holds "home", but will hold "office"; the second change is sent, not taken for no change."""
    home, office = place(), place()
    ada = contact(home)
    wo, _ = await created(h, Case(), ada.insert())
    [there] = await h.run(ada.update(location=ref(office)))
    [back] = await h.run(ada.update(location=ref(home)))
    assert updates([there, back]) == [(wo.sys_id, {"location": office}), (wo.sys_id, {"location": home})]
    assert await h.run(wo.echo(there)) == []
    assert await h.run(wo.echo(back)) == []
    assert wo.location == home
    # both answered: the same value again is no change
    assert await h.run(ada.update(location=ref(home, "Home again"))) == []


async def test_a_contact_location_change_under_a_ci_changes_nothing(h: Harness) -> None:
    ada, printer = contact(place()), ci(place())
    await created(h, Case(cmdb_ci=ref(printer.sys_id)), ada.insert(), printer.insert())
    assert await h.run(ada.update(location=ref(place()))) == []


async def test_the_cases_location_counts_only_as_the_last_fallback(h: Harness) -> None:
    ada, printer = contact(""), ci(place())
    case = Case()
    wo, _ = await created(h, case, ada.insert(), printer.insert())
    assert wo.location == CASE_PLACE
    moved = place()
    [command] = await h.run(case.update(location=ref(moved, "New HQ")))
    assert updates([command]) == [(wo.sys_id, {"location": moved})]
    await h.feed(wo.echo(command))
    # once the caller has a location, the case's location does not override it
    home = place()
    [command] = await h.run(ada.update(location=ref(home)))
    assert updates([command]) == [(wo.sys_id, {"location": home})]
    await h.feed(wo.echo(command))
    assert await h.run(case.update(location=ref(place()))) == []
    # nor the CI's site
    [command] = await h.run(case.update(cmdb_ci=ref(printer.sys_id)))
    assert updates([command]) == [
        (wo.sys_id, {"cmdb_ci": printer.sys_id, "location": printer.record["location"]["value"]})
    ]
    await h.feed(wo.echo(command))
    assert await h.run(case.update(location=ref(place()))) == []


async def test_with_no_input_holding_a_place_the_work_order_has_none(h: Harness) -> None:
    case = Case()
    wo, _ = await created(h, case, contact("").insert())
    [command] = await h.run(case.update(location=""))
    assert updates([command]) == [(wo.sys_id, {"location": ""})]
    assert await h.run(wo.echo(command)) == []
    assert await h.run(case.update(location="")) == []  # nothing more to clear


async def test_closed_work_orders_are_never_changed(h: Harness) -> None:
    ada, printer, other = contact(place()), ci(place()), ci(place())
    case = Case(cmdb_ci=ref(printer.sys_id))
    wo, _ = await created(h, case, ada.insert(), printer.insert(), other.insert())
    await h.feed(wo.change(state=CLOSED))
    assert await h.run(printer.update(location=ref(place()))) == []
    assert await h.run(ada.update(location=ref(place()))) == []
    assert await h.run(case.update(cmdb_ci=ref(other.sys_id))) == []
    assert await h.run(case.update(location=ref(place()), contact="")) == []


async def test_a_work_order_fsm_inserts_for_a_case_gets_the_rule(h: Harness) -> None:
    """FSM's own work order naming the case (``initiated_from``) is derived like company and
    caller, and follows the case's inputs from then on."""
    home, site = place(), place()
    printer = ci(site)
    await h.feed(contact(home).insert())
    await h.feed(printer.insert())
    case = Case(cmdb_ci=ref(printer.sys_id))
    await h.feed(case.insert())
    wo = WorkOrder(location=ref(place(), "Somewhere"))
    answer = await h.run(wo.insert())
    assert updates(answer) == [(wo.sys_id, {"location": site})]
    [command] = [c for c in answer if c["table"] == "wm_order"]
    moved = place()
    await h.feed(wo.echo(command))
    assert updates(await h.run(printer.update(location=ref(moved)))) == [(wo.sys_id, {"location": moved})]


async def test_a_case_arriving_after_fsm_linked_its_work_order(h: Harness) -> None:
    home = place()
    await h.feed(contact(home).insert())
    wo = WorkOrder(location=ref(place(), "Somewhere"))
    assert updates(await h.run(wo.insert())) == []  # the case is not known yet
    assert updates(await h.run(Case().insert())) == [(wo.sys_id, {"location": home})]


# -- on the wire -----------------------------------------------------------------------------


def wire(row: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A published command's Kafka key and headers (read off the topic, or the outbox row the
    relay publishes as they are)."""
    return (row["key"].decode() if "key" in row else row["msg_key"]), row["headers"]


async def test_commands_are_keyed_by_their_work_order_and_name_their_cause(h: Harness) -> None:
    """The insert is keyed by its correlation id (the work order has no sys_id yet), every
    later command by the work order's sys_id, so FSM reads one work order's commands in order;
    each names the mapping set, the event and the rule that caused it."""
    mappings = load_mapping_set(MAPPINGS)
    home, office = place(), place()
    ada, case = contact(home), Case()
    await h.feed(ada.insert())
    await h.feed(case.insert())
    press = case.press()
    [row] = [r for r in (await h.feed(press)).outbox if r["kind"] == "command"]
    insert = json.loads(row["payload"])
    key, headers = wire(row)
    assert key == insert["correlation_id"] != "" and insert["sys_id"] == ""
    assert headers["x-bridge-cause-event"] == press["event_id"]
    assert headers["x-bridge-rule"] == "create_work_order"
    assert (headers["x-bridge-mapping-version"], headers["x-bridge-mapping-hash"]) == (
        mappings.version,
        mappings.content_hash,
    )

    wo = WorkOrder(insert)
    await h.feed(wo.insert())
    there, back = ada.update(location=ref(office)), ada.update(location=ref(home))
    rows = [r for r in (await h.feed(there, back)).outbox if r["kind"] == "command"]
    assert [json.loads(r["payload"])["fields"] for r in rows] == [{"location": office}, {"location": home}]
    assert [wire(r)[0] for r in rows] == [wo.sys_id, wo.sys_id]
    assert [wire(r)[1]["x-bridge-cause-event"] for r in rows] == [there["event_id"], back["event_id"]]
    assert {wire(r)[1]["x-bridge-rule"] for r in rows} == {"work_order_rederived"}


# -- a simulated day, closed loop ------------------------------------------------------------


async def test_after_a_simulated_day_every_open_work_order_holds_the_rules_value(store_harness: Harness) -> None:
    """The simulated CSM, FSM and ITSM (cases naming CIs, CI sites and contact locations
    moving, cases changing CI, contact and location) against the real processor and store,
    the systems answering every command, batch after batch. At the end every open work order
    of a case holds, in FSM, the rule's value for the systems' own records; and no location
    command reached FSM that changed nothing."""
    h = store_harness
    world = SimWorld(6)
    systems = Responders(world)
    rules: Counter[str] = Counter()

    async def run(messages: list[SimMessage]) -> list[SimMessage]:
        raws = []
        for message in messages:
            h.offset += 1
            raws.append(RawRecord(h.topics.events()[message.source], 0, h.offset, message.key, message.value))
        result = await h.processor.process(raws)
        assert result.outcomes.get("dead_lettered", 0) == 0
        answers = []
        for row in result.outbox:
            rules[row["headers"]["x-bridge-rule"]] += 1
            answers += systems.handle(row["target"], row["payload"])
        return answers

    population = list(population_messages(world, "small"))
    answers: list[SimMessage] = []
    for start in range(0, len(population), 500):
        answers += await run(population[start : start + 500])
    workload = Workload(world, "clean")
    for _ in range(40):
        answers = await run(answers + [workload.next_message() for _ in range(50)])
    while answers:
        answers = await run(answers)

    store = world.store

    def known(sys_id: str, field: str) -> str:
        return store.get(sys_id, field) if sys_id and sys_id in store else ""

    checked = 0
    for wo in world.active["wm_order"]:
        case = store.get(wo, "initiated_from")
        if not case:
            continue
        expected = (
            known(store.get(case, "cmdb_ci"), "location")
            or known(store.get(case, "contact"), "location")
            or store.get(case, "location")
        )
        assert store.get(wo, "location") == expected, wo
        checked += 1
    assert checked > 50
    assert rules["work_order_rederived"] > 5 and rules["case_to_work_order_sync"] > 20
    idle = [
        r
        for r in systems.recorder.received
        if r.outcome == "unchanged" and "location" in (r.command or {}).get("fields", {})
    ]
    assert idle == []
