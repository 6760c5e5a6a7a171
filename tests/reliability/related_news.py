"""The independent oracle's half for ITSM news on cases: which work notes each incident,
problem, change and request update must give, and on which cases.

Written by hand, as ``systems_model``, from the README (related records, major cases, R5/R6/R9)
and the mapping YAML read with ``yaml.safe_load`` (``notes.yaml``'s templates, labels and
``when_empty``; ``value_maps.yaml``'s labels; ``bridge.yaml``'s ``routing``); nothing of the
bridge is imported.

* A case holds a record through its ``incident``, ``problem``, ``change`` or ``caused_by``
  field (as CSM last reported it), through a request's ``parent``, or through the insert ITSM
  made for the case's own ``create_*`` press (its ``correlation_id`` names case and relation).
* An update of a held record gives its notes to every holding case the bridge knows and that is
  not deleted — except a child of an accepted major case that holds the same record: then only
  the major case gets them. The major case's notes reach a child only with
  ``parent_child_case_sync`` on, one of the relations listed in ``case_fields_to_sync``, the child
  not Resolved, Closed or Canceled, and no different record of that type of its own.
* The notes of one update: its state change (with labels; an incident On Hold names its hold
  reason; ends have their own texts), a problem's workaround and fix, a change's type and hold,
  the journal's comments; then, for a case not Resolved, Closed or Canceled, the suggested
  resolution code when the update is an end that earns one (``resolution_mode: suggest``).

Not modelled (the inputs have none of it; a run that had it shows as notes the model does not
explain, never as a silent pass): a candidate's related records copied to its major case when it
joins; ``resolution_mode: propose`` and ``late_children_get_earlier_notes`` (refused below); the
escaping and cutting of inserted values (the simulators' texts are plain and short).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
_NOTES: dict[str, dict[str, Any]] = yaml.safe_load((MAPPINGS / "notes.yaml").read_text())["notes"]
_LABELS: dict[str, dict[str, Any]] = yaml.safe_load((MAPPINGS / "value_maps.yaml").read_text())["value_maps"]
ROUTING: dict[str, Any] = yaml.safe_load((MAPPINGS / "bridge.yaml").read_text())["routing"]

#: settings whose other values the model does not know (a proposed resolution is a CSM update,
#: not a note; replaying earlier notes to late children is not modelled): it refuses them
NOT_MODELLED: dict[str, Any] = {"resolution_mode": "suggest", "late_children_get_earlier_notes": False}
CASE_TABLES = ("sn_customerservice_case", "sn_order_case")
#: ITSM table → the relations (case fields, or ``request``) through which a case holds it
RELATIONS = {
    "incident": ("incident",),
    "problem": ("problem",),
    "change_request": ("change", "caused_by"),
    "sc_request": ("request",),
}
CASE_FIELDS = ("incident", "problem", "change", "caused_by")
CASE_DONE = {"6", "3", "7"}  # Resolved, Closed, Canceled
#: the resolution codes of the README's R9 (the seeds' texts)
FIXED_BY = {
    "incident": "Solved – Fixed by closing related Incident",
    "problem": "Solved – Fixed by closing related PRB",
    "change_request": "Solved – Fixed by closing related Change Request",
    "sc_request": "Solved – Related Request is Closed Complete",
}
WORKAROUND = "Solved – Workaround provided based on open PRB"


def ref(record: Mapping[str, Any] | None, name: str) -> str:
    value = (record or {}).get(name, "")
    if isinstance(value, dict):
        return str(value.get("value", ""))
    return "" if value is None else str(value)


def render(key: str, **values: str) -> str:
    """``notes.yaml``'s note ``key``: labels first, then ``when_empty``, then the template."""
    spec = _NOTES[key]
    shown = dict(values)
    for name, table in (spec.get("labels") or {}).items():
        entries = {str(k): str(v) for k, v in _LABELS[table]["entries"].items()}
        shown[name] = entries.get(shown[name], shown[name])
    template = next((t for name, t in (spec.get("when_empty") or {}).items() if not shown.get(name)), spec["template"])
    return str(template).format(**shown)


def _changed(event: Mapping[str, Any], previous: Mapping[str, Any] | None, name: str) -> tuple[str, str] | None:
    old, new = ref(previous, name), ref(event["record"], name)
    return (old, new) if name in event["changed_fields"] and old != new else None


def update_notes(event: Mapping[str, Any], previous: Mapping[str, Any] | None) -> tuple[list[str], str | None]:
    """The notes one update of an ITSM record gives a case, and the resolution code it earns."""
    table, rec = str(event["table"]), event["record"]
    number, notes, code = ref(rec, "number"), [], None

    def get(name: str) -> str:
        return ref(rec, name)

    comments = [(j["sys_created_by"], j["value"]) for j in event.get("journal") or [] if j["element"] == "comments"]
    if table == "incident":
        state = _changed(event, previous, "state")
        if state and state[1] in ("6", "7"):
            notes.append(
                render(
                    "incident.resolved",
                    number=number,
                    state=state[1],
                    close_code=get("close_code"),
                    close_notes=get("close_notes"),
                )
            )
            if state[0] not in ("6", "7") and not get("close_code").strip().lower().startswith(
                ("not solved", "duplicate", "canceled", "cancelled")
            ):
                code = FIXED_BY[table]
        elif state or (get("state") == "3" and "hold_reason" in event["changed_fields"]):
            new = state[1] if state else "3"
            notes.append(
                render(
                    "incident.state_changed",
                    number=number,
                    old_state=state[0] if state else "3",
                    new_state=new,
                    hold_reason=get("hold_reason") if new == "3" else "",
                )
            )
        notes += [render("incident.comment", number=number, author=a, text=t) for a, t in comments]
    elif table == "problem":
        state = _changed(event, previous, "state")
        ends = ("106", "107")
        closing = (
            {
                "fix_applied": "problem.closed.fix_applied",
                "risk_accepted": "problem.closed.risk_accepted",
                "canceled": "problem.closed.canceled",
            }.get(get("resolution_code"))
            if state and state[1] in ends
            else None
        )
        if closing:
            notes.append(
                render(
                    closing,
                    number=number,
                    cause_notes=get("cause_notes"),
                    close_notes=get("close_notes"),
                    fix_notes=get("fix_notes"),
                )
            )
        elif state:
            notes.append(render("problem.state_changed", number=number, new_state=state[1]))
        if "workaround" in event["changed_fields"] and get("workaround"):
            notes.append(render("problem.workaround", number=number, workaround=get("workaround")))
        if "fix_notes" in event["changed_fields"] and get("fix_notes") and not closing:
            notes.append(render("problem.fix", number=number, fix_notes=get("fix_notes")))
        if state and state[1] in ends and state[0] not in ends:
            code = FIXED_BY[table] if get("resolution_code") == "fix_applied" else None
        elif "workaround" in event["changed_fields"] and get("workaround") and get("state") not in ends:
            code = WORKAROUND
    elif table == "change_request":
        state = _changed(event, previous, "state")
        if state and state[1] == "3":
            notes.append(
                render("change.closed", number=number, close_code=get("close_code"), close_notes=get("close_notes"))
            )
            code = FIXED_BY[table] if get("close_code") in ("successful", "successful_issues") else None
        elif state:
            notes.append(render("change.state_changed", number=number, old_state=state[0], new_state=state[1]))
        if _changed(event, previous, "type"):
            notes.append(render("change.type_changed", number=number, type=get("type")))
        hold = _changed(event, previous, "on_hold")
        if hold and hold[1] == "true":
            notes.append(render("change.on_hold", number=number, on_hold_reason=get("on_hold_reason")))
        elif hold and hold[0] == "true":
            notes.append(render("change.hold_released", number=number))
        notes += [render("change.comment", number=number, author=a, text=t) for a, t in comments]
    else:
        state = _changed(event, previous, "request_state")
        if state:
            key = "request.closed" if state[1].startswith("closed_") else "request.state_changed"
            notes.append(render(key, number=number, new_state=state[1]))
            code = FIXED_BY[table] if state[1] == "closed_complete" else None
        notes += [render("request.comment", number=number, author=a, text=t) for a, t in comments]
    return notes, code


class Holdings:
    """Which cases hold which ITSM records, by relation, as the bridge has been told."""

    def __init__(self) -> None:
        self.held: dict[tuple[str, str], set[str]] = defaultdict(set)  # (case, relation) → records
        self.cases: set[str] = set()  # every case seen

    def cases_of(self, table: str, record: str) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = defaultdict(list)
        for relation in RELATIONS[table]:
            for (case, rel), records in self.held.items():
                if rel == relation and record in records:
                    found[case].append(relation)
        return {case: tuple(relations) for case, relations in sorted(found.items())}

    def case_changed(self, event: Mapping[str, Any]) -> None:
        case = str(event["sys_id"])
        self.cases.add(case)
        for name in CASE_FIELDS:
            new = ref(event["record"], name)
            if new or (event["operation"] == "update" and name in event["changed_fields"]):
                self.held[(case, name)] = {new} if new else set()

    def itsm_changed(self, event: Mapping[str, Any], previous: Mapping[str, Any] | None) -> None:
        record, rec = str(event["sys_id"]), event["record"]
        parts = ref(rec, "correlation_id").split(":")
        if event["operation"] == "insert" and len(parts) == 5 and parts[0] == "case" and parts[2] != "wo":
            self.held[(parts[1], parts[2])].add(record)  # created for the case's press
        elif event["table"] == "sc_request":
            old, new = ref(previous, "parent"), ref(rec, "parent")
            if old and old != new:
                self.held[(old, "request")].discard(record)
            if new:
                self.held[(new, "request")].add(record)


def related_record_news(
    events: Iterable[Mapping[str, Any]], routing: Mapping[str, Any] = ROUTING
) -> dict[str, Counter[str]]:
    """Case sys_id → the work notes ITSM updates must have given it, walking ``events`` in the
    order the bridge applied them (stale copies skipped, as every record's newest version wins)."""
    for name, modelled in NOT_MODELLED.items():
        if routing.get(name, modelled) != modelled:
            raise ValueError(f"related_news models routing.{name} = {modelled!r} only, not {routing[name]!r}")
    notes: dict[str, Counter[str]] = defaultdict(Counter)
    known: dict[str, Mapping[str, Any]] = {}
    versions: dict[str, int] = {}
    holdings = Holdings()
    for event in events:
        sys_id, count, table = str(event["sys_id"]), int(event["sys_mod_count"]), str(event["table"])
        if event["operation"] == "action" or count <= versions.get(sys_id, -1):
            continue
        versions[sys_id] = count
        previous = known.get(sys_id)
        if event["operation"] == "delete":
            known.pop(sys_id, None)
        else:
            known[sys_id] = event["record"]
        if table in CASE_TABLES:
            holdings.case_changed(event)
        elif table in RELATIONS:
            holdings.itsm_changed(event, previous)
            if event["operation"] == "update":
                _route(event, previous, holdings, known, routing, notes)
    return notes


def _is_major(case: Mapping[str, Any] | None) -> bool:
    return case is not None and ref(case, "major_case_state") == "accepted"


def _route(
    event: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    holdings: Holdings,
    known: Mapping[str, Mapping[str, Any]],
    routing: Mapping[str, Any],
    notes: dict[str, Counter[str]],
) -> None:
    record, table = str(event["sys_id"]), str(event["table"])
    holders = {c: r for c, r in holdings.cases_of(table, record).items() if c in known}
    texts, code = update_notes(event, previous)
    deliveries: list[str] = []
    for case, relations in holders.items():
        parent = ref(known[case], "parent")
        if parent != case and parent in holders and _is_major(known.get(parent)):
            continue  # shared with its accepted major case: the major's notes decide
        deliveries.append(case)
        if not _is_major(known[case]):
            continue
        for child in sorted(holdings.cases & known.keys()):
            child_case = known[child]
            if child == case or ref(child_case, "parent") != case:
                continue
            own_other = any(
                holdings.held.get((child, r)) and record not in holdings.held[(child, r)]
                for r in relations
                if r != "request"
            )
            if (
                not own_other
                and routing["parent_child_case_sync"]
                and any(r in routing["case_fields_to_sync"] for r in relations)
                and ref(child_case, "state") not in CASE_DONE
            ):
                deliveries.append(child)
    for case in deliveries:
        notes[case].update(texts)
        if code is not None and ref(known[case], "state") not in CASE_DONE:
            notes[case][render("resolution.suggested", code=code, number=ref(event["record"], "number"))] += 1
