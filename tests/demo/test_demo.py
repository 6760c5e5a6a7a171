"""The quickstart demo, as a user runs it: its own local Kafka, the bridge and the simulated
systems, the whole story told, then a clean exit (``--once``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo() -> dict:  # type: ignore[type-arg]
    finished = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--once", "--json", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    summary = json.loads(finished.stdout)
    summary["told"] = finished.stderr
    return summary


def scene(summary: dict, title: str) -> dict:  # type: ignore[type-arg]
    return next(s for s in summary["scenes"] if s["title"] == title)


def test_a_case_becomes_a_work_order_with_its_context(demo: dict) -> None:  # type: ignore[type-arg]
    facts = scene(demo, "A case becomes a work order")["facts"]
    assert facts["work_order"].startswith("WO")
    fields = facts["work_order_fields"]
    assert fields["short_description"] == "Printer jams on every large job"
    assert fields["priority"] == "3" and fields["account"] and fields["contact"] and fields["partner"]


def test_the_work_order_follows_the_case_and_the_case_hears_back(demo: dict) -> None:  # type: ignore[type-arg]
    assert scene(demo, "The case changes and the work order follows")["facts"]["work_order_priority"] == "1"
    notes = scene(demo, "A technician works the order and closes it")["facts"]["case_notes"]
    assert any("Replaced the fuser" in note for note in notes)  # the technician's note
    assert len(notes) >= 3  # state changes and the closing, besides the technician's notes


def test_the_incident_reaches_the_major_case(demo: dict) -> None:  # type: ignore[type-arg]
    facts = scene(demo, "An incident on a major case")["facts"]
    assert facts["incident"].startswith("INC")
    major = next(notes for name, notes in facts["notes"].items() if name.startswith("major"))
    assert any(facts["incident"] in note for note in major)


def test_customer_admin_and_partner_see_different_work_orders(demo: dict) -> None:  # type: ignore[type-arg]
    views = scene(demo, "Two portal users, two different lists")["facts"]["portal"]
    admin = next(v for k, v in views.items() if k.startswith("customer admin"))
    partner = next(v for k, v in views.items() if k.startswith("partner"))
    story_wo = scene(demo, "A case becomes a work order")["facts"]["work_order"]
    assert story_wo in admin and story_wo in partner  # the partner serves that case
    assert set(admin) != set(partner) and set(partner) - set(admin)  # and one the admin may not see


def test_the_story_is_told_readably(demo: dict) -> None:  # type: ignore[type-arg]
    told = demo["told"]
    for line in (
        "1. The systems publish what they hold",
        "2. A case becomes a work order",
        "insert fsm.wm_order",
        "update fsm.wm_order",
        "note: “Work order WO",
        "6. Two portal users",
        "customer admin",
        "partner",
    ):
        assert line in told, line
