"""The independent oracle: what CSM, FSM and ITSM must hold after answering the bridge.

Written by hand from the contract (``shared/contracts/README.md``), the README's readings of it
and the shipped mapping YAML (``mappings/``); it imports nothing of the bridge's flows, mapping
engine or store. The simulated systems (``bridgedev.simulate``) are the world: the test rebuilds the
world its input came from, lets the ``Responders`` answer every command the bridge published (in
each partition's order, as the systems would), and compares what the systems then hold with
what the model says must have happened:

* every ``create_work_order`` press gives exactly one work order in FSM (its insert's
  ``correlation_id`` is ``case:<case>:wo:<sys_mod_count>:<press>``, the README's reading), whose
  fields are ``case_to_work_order``'s rows applied to the case as the bridge knew it, with
  ``company`` = account, ``caller`` = contact and ``location`` = the CI's site, else the
  caller's location, else the case's (``derived``), reading the CI and the contact as they
  stood when the bridge handled the press;
* every ``create_incident`` / ``_problem`` / ``_change`` / ``_request`` press gives exactly one
  ITSM record with ``case_to_itsm.yaml``'s fields, or, when the case may not have another one of
  that kind (one incident, problem, change each; closed or canceled cases nothing), exactly one
  ``case.action_refused`` work note on that case and no record;
* every ITSM update of a record a case holds gives exactly the work notes the routing rules
  define, on exactly the cases they name (``related_news``: the major case for a record it
  shares with its children, the children only where the sync settings say so);
* nothing else: no record, no note and no change the model does not explain, and every command
  accepted by the systems as the contract states it.

"When the bridge handled the press" is the order in which it applied the events (its dedupe
table's order, checked here to keep every record's own order): Kafka gives no order across
records, so that serialisation is the run's, and the model replays it — a press and the CI
change next to it on another partition may legitimately go either way.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bridgedev.simulate import ReceivedCommand, Responders, SimMessage, SimWorld
from tests.reliability.related_news import ROUTING, related_record_news

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
CLOSED_CASE_STATES = {"3", "7"}  # Closed, Canceled: nothing new starts from them (README)
#: create action → (relation named in the correlation id, target system, target table)
CREATIONS = {
    "create_work_order": ("wo", "fsm", "wm_order"),
    "create_incident": ("incident", "itsm", "incident"),
    "create_problem": ("problem", "itsm", "problem"),
    "create_change": ("change", "itsm", "change_request"),
    "create_request": ("request", "itsm", "sc_request"),
}
#: one of each per case (the contract: "the related ITSM records (one each)")
ONE_PER_CASE = {"incident", "problem", "change"}
REFUSAL_PREFIX = "The bridge did not run '{action}'"


def _lookup(name: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in yaml.safe_load((MAPPINGS / "lookups" / f"{name}.yaml").read_text()).items()}


def ref(record: Mapping[str, Any], name: str) -> str:
    """A field's value, references as their bare sys_id (the contract's shapes)."""
    value = record.get(name, "")
    if isinstance(value, dict):
        return str(value.get("value", ""))
    return "" if value is None else str(value)


# --- what a case asks for, by the mapping YAML's rows --------------------------------------


def work_order_fields(case: Mapping[str, Any], case_id: str, known: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``case_to_work_order`` with its ``derived`` rules (mappings/case_to_work_order.yaml)."""
    fields = {
        name: ref(case, name)
        for name in (
            "account",
            "consumer",
            "contact",
            "asset",
            "partner",
            "partner_contact",
            "priority",
            "short_description",
            "description",
        )
    }
    fields.update(initiated_from=case_id, state="draft", cmdb_ci=ref(case, "cmdb_ci"))
    fields["company"] = fields["account"]
    fields["caller"] = fields["contact"]
    ci, caller = known.get(ref(case, "cmdb_ci")), known.get(ref(case, "contact"))
    candidates = [
        ref(ci, "location") if ci is not None else "",
        ref(caller, "location") if caller is not None else "",
        ref(case, "location"),
    ]
    fields["location"] = next((c for c in candidates if c), "")
    return fields


def itsm_fields(action: str, case: Mapping[str, Any], case_id: str, args: Mapping[str, str]) -> dict[str, str]:
    """``case_to_itsm.yaml``: the map the action picks, its rows, defaults and value maps."""
    if action == "create_incident":
        priority = _lookup("case_priority_to_incident").get(ref(case, "priority"), "5")
        return {
            "short_description": ref(case, "short_description"),
            "description": ref(case, "description"),
            "priority": priority,
            "impact": ref(case, "impact") or "3",
            "urgency": ref(case, "urgency") or "3",
            "caller_id": ref(case, "contact"),
            "company": ref(case, "account"),
        }
    if action == "create_problem":
        return {"short_description": ref(case, "short_description")}
    if action == "create_change":
        if args.get("type") == "standard":  # case_to_standard_change: order 200 beats 100
            template = args.get("template") or "no template"
            return {
                "type": "standard",
                "short_description": f"{ref(case, 'short_description')} (standard change: {template})",
            }
        return {"type": args.get("type") or "normal", "short_description": ref(case, "short_description")}
    return {"parent": case_id, "short_description": f"{args.get('cat_item', '')}: {ref(case, 'short_description')}"}


# --- the model -------------------------------------------------------------------------------


@dataclass
class Press:
    event_id: str
    case_id: str
    action: str
    correlation_id: str
    fields: dict[str, str] | None  # None: refused


@dataclass
class Expectations:
    presses: list[Press] = field(default_factory=list)
    order_problems: list[str] = field(default_factory=list)

    @property
    def refusals(self) -> dict[str, list[str]]:
        """Case sys_id → the actions refused on it, in order."""
        found: dict[str, list[str]] = defaultdict(list)
        for press in self.presses:
            if press.fields is None:
                found[press.case_id].append(press.action)
        return found


def correlation_of(event: Mapping[str, Any], relation: str) -> str:
    """The README's reading: ``case:<sys_id>:<relation>:<sys_mod_count>:<press>``."""
    press = hashlib.sha256(str(event["event_id"]).encode()).hexdigest()[:12]
    return f"case:{event['sys_id']}:{relation}:{event['sys_mod_count']}:{press}"


def expectations(messages: Sequence[SimMessage], applied_order: Sequence[str] | None = None) -> Expectations:
    """Walk the input in the order the bridge applied it (``applied_order``: event ids; input
    order when None), keeping the newest version of every record, and decide each press."""
    events = [m.event for m in messages if m.event is not None]
    by_id = {str(e["event_id"]): e for e in events}
    found = Expectations()
    if applied_order is None:
        ordered = events
    else:
        ordered = [by_id[i] for i in applied_order if i in by_id]
        seen = set(applied_order)
        ordered += [e for e in events if e["event_id"] not in seen]  # never applied: lost
        found.order_problems = _own_order_kept(events, ordered)
    known: dict[str, dict[str, Any]] = {}
    versions: dict[str, int] = {}
    requested: dict[str, set[str]] = defaultdict(set)  # case → relations asked for
    pressed: set[str] = set()
    for event in ordered:
        sys_id, count = str(event["sys_id"]), int(event["sys_mod_count"])
        if event["operation"] == "action":
            if event["action"] not in CREATIONS or event["event_id"] in pressed:
                continue
            pressed.add(event["event_id"])
            case = known.get(sys_id) if versions.get(sys_id, -1) >= count else None
            found.presses.append(_press(event, case or event["record"], known, requested))
            continue
        if count <= versions.get(sys_id, -1):
            continue  # stale or a copy
        versions[sys_id] = count
        if event["operation"] == "delete":
            known.pop(sys_id, None)
        else:
            known[sys_id] = event["record"]
    return found


def _press(
    event: Mapping[str, Any],
    case: Mapping[str, Any],
    known: Mapping[str, Mapping[str, Any]],
    requested: dict[str, set[str]],
) -> Press:
    action, case_id = str(event["action"]), str(event["sys_id"])
    relation, _, _ = CREATIONS[action]
    press = Press(str(event["event_id"]), case_id, action, correlation_of(event, relation), None)
    if ref(case, "state") in CLOSED_CASE_STATES:
        return press
    if relation in ONE_PER_CASE:
        if ref(case, relation) or relation in requested[case_id]:
            return press
        requested[case_id].add(relation)
    press.fields = (
        work_order_fields(case, case_id, known)
        if action == "create_work_order"
        else itsm_fields(action, case, case_id, event.get("action_args") or {})
    )
    return press


def _own_order_kept(events: Sequence[Mapping[str, Any]], ordered: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each record's events must have been applied in the order its partition carries them."""
    position = {str(e["event_id"]): i for i, e in enumerate(ordered)}
    last: dict[str, int] = {}
    problems = []
    for event in events:
        at = position[str(event["event_id"])]
        if at < last.get(str(event["sys_id"]), -1):
            problems.append(
                f"event {event['event_id']} of {event['sys_id']} applied before an earlier event of the same record"
            )
        last[str(event["sys_id"])] = max(at, last.get(str(event["sys_id"]), -1))
    return problems


# --- work-order news on cases (notes.yaml's work_order.* and work_order_task.*) -------------

CLOSED_WORK_ORDER = {"closed_complete", "closed_incomplete", "canceled"}
_WO_LABELS = yaml.safe_load((MAPPINGS / "value_maps.yaml").read_text())["value_maps"]["work_order_state_labels"][
    "entries"
]


def _label(state: str) -> str:
    return str(_WO_LABELS.get(state, state))


@dataclass
class News:
    """What linked work orders cause: notes by case, location updates by work order (in order)."""

    notes: dict[str, Counter[str]]
    locations: dict[str, list[str]]


def work_order_news(events: Sequence[Mapping[str, Any]]) -> News:
    """The work notes each case must get from its work orders and their tasks, walking the
    events (FSM's answers included) in the order the bridge applied them (README: work-order
    news — state, closing, the technicians' work notes on the work order, their work notes and
    comments on its tasks naming the task and the work order — comes back as case work notes;
    a task's notes that come before its work order is linked wait for it; an echo's journal is
    the bridge's own text and is not passed back; the last work order of a case to close gives a
    summary).

    And the location rule after creation (README, mappings/README.md): once the bridge knows a
    work order of a case, its location is derived again whenever what it reads changes (the
    case, its CI, its contact, or one of them appearing), on open work orders only; a value that
    differs from the work order's gives one update."""
    notes: dict[str, Counter[str]] = defaultdict(Counter)
    locations: dict[str, list[str]] = defaultdict(list)
    location: dict[str, str] = {}  # linked work order → its location as the bridge knows it
    known: dict[str, Mapping[str, Any]] = {}
    versions: dict[str, int] = {}
    case_of: dict[str, str] = {}  # work order → its case
    work_orders: dict[str, list[str]] = defaultdict(list)  # case → its work orders
    held: dict[str, list[str]] = defaultdict(list)  # work order not known yet → task notes
    for event in events:
        sys_id, count = str(event["sys_id"]), int(event["sys_mod_count"])
        if event["operation"] == "action" or count <= versions.get(sys_id, -1):
            continue
        versions[sys_id] = count
        previous, record = known.get(sys_id), event["record"]
        known[sys_id] = record
        echo = event.get("caused_by_command") is not None
        journal = [] if echo else [(j["element"], j["value"], j["sys_created_by"]) for j in event.get("journal") or []]
        state_changed = (
            event["operation"] == "update"
            and "state" in event["changed_fields"]
            and ref(record, "state") != (ref(previous, "state") if previous else "")
        )
        if event["operation"] == "delete":
            known.pop(sys_id, None)
        if event["table"] in ("sn_customerservice_case", "sn_order_case", "cmdb_ci", "customer_contact"):
            _derive_locations(known, case_of, location, locations)
        if event["table"] == "wm_order":
            number = ref(record, "number")
            if event["operation"] == "insert" and ref(record, "initiated_from"):
                case = case_of[sys_id] = ref(record, "initiated_from")
                work_orders[case].append(sys_id)
                location[sys_id] = ref(record, "location")
                _derive_locations(known, case_of, location, locations)
                notes[case][f"Work order {number} created for case {ref(known.get(case, {}), 'number')}"] += 1
            waiting = held.pop(sys_id, [])
            case = case_of.get(sys_id)
            if case is None:
                continue
            notes[case].update(waiting)
            for element, text, author in journal:
                if element == "work_notes":
                    notes[case][f"Work order {number}, note from {author}:\n{text}"] += 1
            if not state_changed:
                continue
            state = ref(record, "state")
            if state not in CLOSED_WORK_ORDER:
                notes[case][f"Work order {number}: {_label(ref(previous or {}, 'state'))} → {_label(state)}"] += 1
                continue
            notes[case][f"Work order {number} is {_label(state)}"] += 1
            states = sorted((ref(known[w], "number"), ref(known[w], "state")) for w in work_orders[case] if w in known)
            if all(s in CLOSED_WORK_ORDER for _, s in states):
                summary = ", ".join(f"{n}: {s}" for n, s in states)
                notes[case][
                    f"All {len(states)} work orders of case {ref(known[case], 'number')} are closed:\n{summary}"
                ] += 1
        elif event["table"] == "wm_task":
            parent = ref(record, "parent")
            wo = known.get(parent)
            names = f"{ref(record, 'number')} ({ref(wo, 'number') if wo else parent})"
            texts = [
                f"Work order task {names}, {'note' if element == 'work_notes' else 'comment'} from {author}:\n{text}"
                for element, text, author in journal
            ]
            if state_changed:
                texts.append(f"Work order task {names} is {_label(ref(record, 'state'))}")
            if parent in case_of:
                notes[case_of[parent]].update(texts)
            elif wo is None:
                held[parent].extend(texts)  # a work order not from a case drops them
    return News(notes, locations)


def _derive_locations(
    known: Mapping[str, Mapping[str, Any]],
    case_of: Mapping[str, str],
    location: dict[str, str],
    locations: dict[str, list[str]],
) -> None:
    for wo, case in case_of.items():
        if case not in known or ref(known.get(wo, {}), "state") in CLOSED_WORK_ORDER:
            continue
        derived = work_order_fields(known[case], case, known)["location"]
        if derived != location.get(wo):
            location[wo] = derived
            locations[wo].append(derived)


# --- the systems answer, then the comparison -------------------------------------------------

Journals = dict[str, list[tuple[str, str]]]


@dataclass
class SystemsState:
    """What the systems hold: their records, every command they received (with what they did),
    and the journal entries each record got (journals are not kept in the record itself)."""

    world: SimWorld
    received: list[ReceivedCommand]
    journals: Journals
    created: dict[str, Mapping[str, Any]]  # sys_id → the record as the system created it


@dataclass
class SystemsVerdict:
    """Differences between what the systems hold and what the model says; empty when right."""

    presses: int = 0
    notes: int = 0
    related_notes: int = 0  # of ``notes``' expectations, those ITSM updates give (related_news)
    problems: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def assert_right(self) -> None:
        assert not self.problems, f"{len(self.problems)} differences from the systems' model, e.g. {self.problems[:8]}"


def answer(world: SimWorld, commands: Iterable[tuple[str, bytes]]) -> SystemsState:
    """Let the systems answer ``(system, payload)`` commands in order (after the run)."""
    responders = Responders(world)
    answers = []
    for system, payload in commands:
        answers.extend(m.event for m in responders.handle(system, payload) if m.event is not None)
    return answered_live(world, responders.recorder.received, answers)


def answered_live(
    world: SimWorld, received: list[ReceivedCommand], events: Iterable[Mapping[str, Any]]
) -> SystemsState:
    """The state of systems that answered during the run: their answers are among ``events``."""
    journals: Journals = defaultdict(list)
    created: dict[str, Mapping[str, Any]] = {}
    for event in events:
        if event.get("caused_by_command") is not None:
            journals[str(event["sys_id"])].extend(
                (entry["element"], entry["value"]) for entry in event.get("journal") or []
            )
            if event["operation"] == "insert":
                created[str(event["sys_id"])] = event["record"]
    return SystemsState(world, received, journals, created)


def judge_systems(
    world: SimWorld,
    messages: Sequence[SimMessage],
    commands: Iterable[tuple[str, bytes]],
    applied_order: Sequence[str] | None = None,
    routing: Mapping[str, Any] = ROUTING,
) -> SystemsVerdict:
    """Answer the commands on ``world`` (the systems' state after the input), then compare.
    ``routing``: ``bridge.yaml``'s ``routing`` section the run used (the shipped one by default)."""
    return judge_state(answer(world, commands), messages, applied_order, routing)


def judge_state(
    state: SystemsState,
    messages: Sequence[SimMessage],
    applied_order: Sequence[str] | None = None,
    routing: Mapping[str, Any] = ROUTING,
) -> SystemsVerdict:
    expected = expectations(messages, applied_order)
    verdict = SystemsVerdict(presses=len(expected.presses))
    verdict.problems.extend(expected.order_problems)
    store = state.world.store
    created: dict[str, list[str]] = defaultdict(list)  # correlation id → records created
    for entry in state.received:
        if entry.outcome in ("invalid", "unknown_record"):
            verdict.add(
                f"{entry.system} did not accept a command ({entry.outcome} "
                f"{entry.reason}): {json.dumps(entry.command)[:300]}"
            )
        elif entry.outcome == "created":
            assert entry.command is not None
            created[str(entry.command["correlation_id"])].append(entry.sys_id)
    ordered = _ordered_events(messages, applied_order)
    news = work_order_news(ordered)
    for case_id, texts in related_record_news(ordered, routing).items():
        news.notes[case_id].update(texts)
        verdict.related_notes += texts.total()
    moves = news.locations
    refused_notes: dict[str, list[str]] = defaultdict(list)
    for sys_id, entries in state.journals.items():
        for element, text in entries:
            action = next((a for a in CREATIONS if text.startswith(REFUSAL_PREFIX.format(action=a))), None)
            if action is not None and element == "work_notes":
                refused_notes[sys_id].append(action)
            elif element == "work_notes" and news.notes.get(sys_id, Counter())[text] > 0:
                news.notes[sys_id][text] -= 1
                verdict.notes += 1
            else:
                verdict.add(f"a note the model does not explain on {sys_id}: {element} {text[:160]!r}")
    for case_id, missing in news.notes.items():
        for text, n in missing.items():
            if n > 0:
                verdict.add(f"{n} note(s) missing on case {case_id}: {text[:160]!r}")
    tasks = _line_tasks(state, created, verdict)
    for press in expected.presses:
        records = created.pop(press.correlation_id, [])
        _, system, table = CREATIONS[press.action]
        if press.fields is None:
            if records:
                verdict.add(
                    f"{press.action} {press.event_id} on {press.case_id} should have been "
                    f"refused, yet {system} created {records}"
                )
            continue
        if len(records) != 1:
            verdict.add(
                f"{press.action} {press.event_id} on case {press.case_id}: {len(records)} "
                f"{table} records in {system}, expected exactly 1"
            )
            continue
        [sys_id] = records
        if store.table(sys_id) != table:
            verdict.add(f"{press.action} {press.event_id}: a {store.table(sys_id)}, not a {table}")
            continue
        record = state.created[sys_id]
        wrong = {name: (ref(record, name), value) for name, value in press.fields.items() if ref(record, name) != value}
        if wrong:
            verdict.add(f"{table} {sys_id} for {press.action} on case {press.case_id}: (held, expected) {wrong}")
    for correlation_id, records in created.items():
        if correlation_id not in tasks:
            verdict.add(f"records created for no press: {correlation_id} → {records}")
    expected_refusals = expected.refusals
    for case_id in expected_refusals.keys() | refused_notes.keys():
        if sorted(expected_refusals.get(case_id, [])) != sorted(refused_notes.get(case_id, [])):
            verdict.add(
                f"refusal notes on {case_id}: {refused_notes.get(case_id, [])}, expected "
                f"{expected_refusals.get(case_id, [])}"
            )
    for entry in state.received:
        command = entry.command or {}
        fields, target = command.get("fields"), str(command.get("sys_id"))
        if entry.outcome not in ("updated", "unchanged") or not fields:
            continue
        if (
            command.get("table") == "wm_order"
            and set(fields) == {"location"}
            and moves.get(target)
            and moves[target][0] == fields["location"]
        ):
            moves[target].pop(0)
        else:
            verdict.add(f"a change the model does not explain: {command.get('table')} {target} {fields}")
    for wo, missing in moves.items():
        if missing:
            verdict.add(f"work order {wo}: location updates {missing} missing")
    return verdict


def _ordered_events(messages: Sequence[SimMessage], applied_order: Sequence[str] | None) -> list[Mapping[str, Any]]:
    events = {str(m.event["event_id"]): m.event for m in messages if m.event is not None}
    if applied_order is None:
        return list(events.values())
    return [events[i] for i in applied_order if i in events]


def _line_tasks(state: SystemsState, created: Mapping[str, list[str]], verdict: SystemsVerdict) -> set[str]:
    """The README's order cases: the work order created from an order case gets a ``wm_task``
    per open order line, one per line. Returns the correlation ids of those task inserts; every
    one must be under a work order of an order case, for a line of that case, once per line."""
    store = state.world.store
    found, lines_seen = set(), set()
    for correlation_id, records in created.items():
        for sys_id in records:
            if store.table(sys_id) != "wm_task":
                continue
            found.add(correlation_id)
            parent = store.get(sys_id, "parent")
            case = store.get(parent, "initiated_from") if parent in store else ""
            line = store.get(sys_id, "short_description").removeprefix("Order line ").split(":")[0]
            if (
                not case
                or store.table(case) != "sn_order_case"
                or line not in store
                or store.get(line, "parent") != case
            ):
                verdict.add(f"task {sys_id} is for no line of its work order's order case")
            elif (line, parent) in lines_seen:
                verdict.add(f"a second task for order line {line} on {parent}")
            lines_seen.add((line, parent))
    return found
