"""Plant known bugs one at a time and check that the tests meant to catch each one fail.

The bugs of issue 25's review (and a few of their kind), each a one-place text change. For
each: a fresh copy of the work tree (tracked and untracked files, nothing else), the change
applied, the covering tests run with ``-x`` against that copy; the bug is *killed* when they
fail, a *survivor* when they pass. Not in CI: a habit, run after changing a flow, the
pipeline, the decoder or the mapping engine (see ``docs/mutation.md``).

    python mutation/planted.py                 # every planted bug, no broker, no PostgreSQL
    python mutation/planted.py dedupe_key_loses_action journal_timestamp_unchecked
    python mutation/planted.py --list

Exit code: 0 when every bug run was killed, 1 when one survived, 2 when a change no longer
applies (the code moved: update its text here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = "not kafka and not postgres"


@dataclass(frozen=True)
class Planted:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    marks: str = QUICK


PLANTED: tuple[Planted, ...] = (
    Planted(
        "dedupe_key_loses_action",
        "bridge/pipeline/batch.py",
        'event.operation, event.action or "",',
        'event.operation, "",',
        ("tests/pipeline/test_dedupe.py",),
    ),
    Planted(
        "dedupe_key_loses_press",
        "bridge/pipeline/batch.py",
        "            press_id(event))",
        '            "")',
        ("tests/pipeline/test_dedupe.py",),
    ),
    Planted(
        "work_order_caller_and_ci_lookups_removed",
        "bridge/flows/work_orders.py",
        "if stored is not None and not stored.deleted:",
        'if stored is not None and not stored.deleted and role not in ("caller", "cmdb_ci"):',
        ("tests/pipeline/test_work_order_location.py",),
    ),
    Planted(
        "reason_code_changed_exact_path",
        "connectors/common/envelope.py",
        'fail("invalid_value", f"{path}.sys_created_on:',
        'fail("wrong_type", f"{path}.sys_created_on:',
        ("tests/connectors",),
    ),
    Planted(
        "reason_code_changed_fast_path",
        "connectors/common/events.py",
        'return "invalid_value", (f"journal[{index}].sys_created_on:',
        'return "wrong_type", (f"journal[{index}].sys_created_on:',
        ("tests/connectors",),
    ),
    Planted(
        "updated_on_reason_code_changed",
        "connectors/common/envelope.py",
        'fail("invalid_value", "sys_updated_on:',
        'fail("wrong_type", "sys_updated_on:',
        ("tests/connectors",),
    ),
    Planted(
        "journal_timestamp_unchecked_exact_path",
        "connectors/common/envelope.py",
        "if created_on and not is_timestamp(created_on):",
        "if False:",
        ("tests/connectors",),
    ),
    Planted(
        "journal_timestamp_unchecked_fast_path",
        "connectors/common/events.py",
        "if entry.sys_created_on != checked_on and not is_optional_timestamp(entry.sys_created_on):",
        "if False:",
        ("tests/connectors",),
    ),
    Planted(
        "updated_on_unchecked_exact_path",
        "connectors/common/envelope.py",
        "if updated_on and not is_timestamp(updated_on):",
        "if False:",
        ("tests/connectors",),
    ),
    Planted(
        "partner_admin_rule_removed",
        "bridge/visibility/rules.py",
        '    (PARTNER_ADMIN, "account", "partner_admin"),\n',
        "",
        ("tests/visibility/test_rules.py",),
    ),
    Planted(
        "map_precedence_tie_reversed",
        "bridge/mapping/compiled.py",
        "return (-self.order, self.declared)",
        "return (-self.order, -self.declared)",
        ("tests/mapping/test_engine.py",),
    ),
    Planted(
        "map_precedence_order_reversed",
        "bridge/mapping/compiled.py",
        "return (-self.order, self.declared)",
        "return (self.order, self.declared)",
        ("tests/mapping/test_engine.py",),
    ),
    Planted(
        "command_key_is_its_command_id",
        "bridge/pipeline/outbox.py",
        "key = command.sys_id or command.correlation_id",
        "key = command.command_id",
        (
            "tests/pipeline/test_work_order_location.py::"
            "test_commands_are_keyed_by_their_work_order_and_name_their_cause",
        ),
    ),
)


def work_tree_copy(into: Path) -> None:
    """The work tree's tracked and untracked files (ignored ones left out) under ``into``."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)


def run(bug: Planted, copy: Path, timeout_s: float) -> tuple[str, float]:
    target = copy / bug.path
    original = target.read_text()
    if original.count(bug.old) != 1:
        return "does not apply", 0.0
    target.write_text(original.replace(bug.old, bug.new))
    began = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", bug.marks, *bug.tests],
            cwd=copy,
            env={**os.environ, "PYTHONPATH": str(copy)},
            capture_output=True,
            timeout=timeout_s,
        )
        # 1: a test failed (killed); 0: all passed (survived); anything else: the run broke
        outcome = {0: "SURVIVED", 1: "killed"}.get(result.returncode, f"error (pytest {result.returncode})")
    except subprocess.TimeoutExpired:
        outcome = "killed (timeout)"
    finally:
        target.write_text(original)
    return outcome, time.monotonic() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="planted bugs to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the planted bugs and exit")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per bug (default 900)")
    args = parser.parse_args()
    if args.list:
        for bug in PLANTED:
            print(f"{bug.name:45} {bug.path}  ({' '.join(bug.tests)}; -m {bug.marks!r})")
        return 0
    unknown = set(args.names) - {bug.name for bug in PLANTED}
    if unknown:
        parser.error(f"unknown planted bug(s): {', '.join(sorted(unknown))} (see --list)")
    chosen = [bug for bug in PLANTED if not args.names or bug.name in args.names]
    with tempfile.TemporaryDirectory(prefix="planted-") as folder:
        copy = Path(folder)
        work_tree_copy(copy)
        outcomes = []
        for bug in chosen:
            outcome, seconds = run(bug, copy, args.timeout)
            outcomes.append(outcome)
            print(f"{bug.name:45} {outcome:18} {seconds:6.0f} s", flush=True)
    if "does not apply" in outcomes:
        return 2
    return 1 if any(not o.startswith("killed") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
