"""The scripted story: five scenes, each published by the simulated systems and told afterwards.

1. a case becomes a work order with its full context; 2. the case's priority changes and the work
order follows; 3. a technician works and closes it (the case gets the notes and the summary);
4. an incident on a major case reaches the work notes of the major case and its children as the
routing rules say; 5. a customer admin and a partner see different work orders on the portal.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from bridgedev.demo.cast import Cast, new_case, pick_cast
from bridgedev.demo.stage import DemoError, Stage
from bridgedev.simulate import ReceivedCommand, population_messages

AGENT, TECHNICIAN, ITIL = "beth.agent", "tom.technician", "ivy.itil"


@dataclass
class Scene:
    title: str
    published: list[str] = field(default_factory=list)  # what the systems did, in words
    commands: list[dict[str, Any]] = field(default_factory=list)  # what the bridge sent
    facts: dict[str, Any] = field(default_factory=dict)  # the outcome, for the summary and tests


@dataclass
class DemoSummary:
    scenes: list[Scene]
    status_url: str
    portal_url: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "status_url": self.status_url,
            "portal_url": self.portal_url,
            "scenes": [
                {"title": s.title, "published": s.published, "commands": s.commands, "facts": s.facts}
                for s in self.scenes
            ],
        }


class Story:
    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.world = stage.simulator.world
        self.rng = random.Random(f"{self.world.seed}:demo")
        self.cast: Cast | None = None

    def number(self, sys_id: str) -> str:
        return self.world.store.get(sys_id, "number") if sys_id in self.world.store else sys_id

    def update(
        self, sys_id: str, values: dict[str, str], *, by: str, journal: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """A system's update event; every step of the story changes something."""
        event = self.world.events.update(sys_id, values, by=by, journal=journal or ())
        if event is None:
            raise DemoError(f"a step of the story changes nothing on {self.number(sys_id)}")
        return event

    async def act(self, title: str, events: list[dict[str, Any]], published: list[str]) -> Scene:
        """Publish the systems' events, wait until all is answered, collect the bridge's commands."""
        before = len(self.stage.simulator.recorder.received)
        await self.stage.publish(events)
        await self.stage.settle()
        received = self.stage.simulator.recorder.received[before:]
        return Scene(title, published, [_command_view(self, r) for r in received])

    async def population(self) -> Scene:
        events = [m.event for m in population_messages(self.world, "tiny") if m.event]
        scene = await self.act(
            "The systems publish what they hold",
            events,
            [f"CSM, FSM and ITSM publish {len(events)} records (accounts, contacts, cases…)"],
        )
        self.cast = pick_cast(self.world)
        return scene

    async def case_to_work_order(self) -> Scene:
        cast = self._cast()
        w = self.world
        case = new_case(
            w,
            self.rng,
            cast.account,
            cast.admin,
            partner=cast.partner,
            partner_contact=cast.partner_contact,
            priority="3",
            short_description="Printer jams on every large job",
        )
        action = w.events.action(case["sys_id"], "create_work_order", {}, by=AGENT)
        scene = await self.act(
            "A case becomes a work order",
            [case, action],
            [
                f"CSM: agent opens case {self.number(case['sys_id'])} for {w.store.label(cast.account)} "
                f"(contact {w.store.label(cast.admin)}, partner {w.store.label(cast.partner)})",
                f"CSM: agent presses “Create Work Order” on {self.number(case['sys_id'])}",
            ],
        )
        self.case = case["sys_id"]
        self.work_order = _created(scene, "wm_order")
        scene.facts = {
            "case": self.number(self.case),
            "work_order": self.number(self.work_order),
            "work_order_fields": _insert_fields(scene, "wm_order"),
        }
        return scene

    async def priority_follows(self) -> Scene:
        update = self.update(self.case, {"priority": "1"}, by=AGENT)
        scene = await self.act(
            "The case changes and the work order follows",
            [update],
            [f"CSM: agent raises {self.number(self.case)} to priority 1 - Critical"],
        )
        scene.facts = {"work_order_priority": self.world.store.get(self.work_order, "priority")}
        return scene

    async def technician_closes(self) -> Scene:
        wo = self.work_order
        steps = [
            self.update(wo, {"state": "assigned"}, by="dispatcher"),
            self.update(
                wo,
                {"state": "work_in_progress"},
                by=TECHNICIAN,
                journal=[("work_notes", "On site: the fuser unit is worn out")],
            ),
            self.update(
                wo,
                {"state": "closed_complete", "close_notes": "Fuser unit replaced"},
                by=TECHNICIAN,
                journal=[("work_notes", "Replaced the fuser; 200 test pages OK")],
            ),
        ]
        scene = await self.act(
            "A technician works the order and closes it",
            steps,
            [
                f"FSM: dispatcher assigns {self.number(wo)}",
                f"FSM: {TECHNICIAN} starts work, with a work note",
                f"FSM: {TECHNICIAN} closes {self.number(wo)} (closed complete), with a work note",
            ],
        )
        scene.facts = {"case_notes": _journal_for(scene, self.case)}
        return scene

    async def incident_on_major_case(self) -> Scene:
        cast, w = self._cast(), self.world
        major = new_case(
            w,
            self.rng,
            cast.account,
            cast.admin,
            priority="1",
            major_case_state="accepted",
            short_description="Site-wide network outage",
        )
        children = [
            new_case(
                w,
                self.rng,
                account,
                contact,
                parent=major["sys_id"],
                short_description="Cannot reach the ordering system",
            )
            for account, contact in ((cast.account, cast.admin), (cast.other_account, cast.other_contact))
        ]
        action = w.events.action(major["sys_id"], "create_incident", {}, by=AGENT)
        opening = await self.act(
            "An incident on a major case",
            [major, *children, action],
            [
                f"CSM: major case {self.number(major['sys_id'])} with children "
                + ", ".join(self.number(c["sys_id"]) for c in children),
                f"CSM: agent presses “Create Incident” on {self.number(major['sys_id'])}",
            ],
        )
        incident = _created(opening, "incident")
        updates = [
            self.update(incident, {"state": "2"}, by=ITIL, journal=[("comments", "Core switch replaced, monitoring")]),
            self.update(
                incident,
                {"state": "6", "close_code": "Solved (Permanently)", "close_notes": "Faulty core switch replaced"},
                by=ITIL,
            ),
        ]
        progress = await self.act(
            "",
            updates,
            [
                f"ITSM: {ITIL} works {self.number(incident)} and comments",
                f"ITSM: {ITIL} resolves {self.number(incident)}",
            ],
        )
        cases = {"major": major["sys_id"], **{f"child {i + 1}": c["sys_id"] for i, c in enumerate(children)}}
        opening.published += progress.published
        opening.commands += progress.commands
        routing = self.stage.bridge.mappings.routing
        opening.facts = {
            "incident": self.number(incident),
            "routing": {
                "parent_child_case_sync": str(routing.parent_child_case_sync).lower(),
                "resolution_mode": routing.resolution_mode,
            },
            "notes": {f"{role} {self.number(sys_id)}": _journal_for(opening, sys_id) for role, sys_id in cases.items()},
        }
        return opening

    async def portal_views(self) -> Scene:
        cast, w = self._cast(), self.world
        other_case = new_case(
            w,
            self.rng,
            cast.other_account,
            cast.other_contact,
            partner=cast.partner,
            partner_contact=cast.partner_contact,
            short_description="Badge reader offline",
        )
        own_case = new_case(w, self.rng, cast.account, cast.admin, short_description="Replace toner")
        events = [other_case, own_case] + [
            w.events.action(c["sys_id"], "create_work_order", {}, by=AGENT) for c in (other_case, own_case)
        ]
        scene = await self.act(
            "Two portal users, two different lists",
            events,
            [
                f"CSM: a case for {w.store.label(cast.other_account)} served by partner {w.store.label(cast.partner)}, "
                f"and another case for {w.store.label(cast.account)}; both get work orders"
            ],
        )
        views = {}
        for role, user in (("customer admin", cast.admin), ("partner", cast.partner_contact)):
            rows = await self.stage.portal(user)
            views[f"{role} {w.store.label(user)}"] = sorted(row["number"] for row in rows)
        scene.facts = {"portal": views}
        return scene

    def _cast(self) -> Cast:
        assert self.cast is not None, "the population comes first"
        return self.cast


async def play(stage: Stage) -> list[Scene]:
    story = Story(stage)
    return [
        await story.population(),
        await story.case_to_work_order(),
        await story.priority_follows(),
        await story.technician_closes(),
        await story.incident_on_major_case(),
        await story.portal_views(),
    ]


def _command_view(story: Story, received: ReceivedCommand) -> dict[str, Any]:
    command = received.command or {}
    target = command.get("sys_id") or received.sys_id
    return {
        "system": received.system,
        "table": command.get("table", "?"),
        "operation": command.get("operation", "?"),
        "record": story.number(target) if target else "",
        "sys_id": received.sys_id,
        "fields": dict(command.get("fields") or {}),
        "journal": [j.get("value", "") for j in command.get("journal") or []],
        "outcome": received.outcome,
    }


def _created(scene: Scene, table: str) -> str:
    for command in scene.commands:
        if command["table"] == table and command["operation"] == "insert" and command["outcome"] == "created":
            return str(command["sys_id"])
    raise LookupError(f"the bridge did not create a {table}")


def _insert_fields(scene: Scene, table: str) -> dict[str, str]:
    return next(c["fields"] for c in scene.commands if c["table"] == table and c["operation"] == "insert")


def _journal_for(scene: Scene, sys_id: str) -> list[str]:
    return [text for c in scene.commands if c["sys_id"] == sys_id and c["system"] == "csm" for text in c["journal"]]
