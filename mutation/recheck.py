"""Run a cosmic-ray session's survivors again, against the tests as they are now.

After writing tests for the survivors of a run (``mutation/run.sh``), this says which of them
the new tests kill, without running every mutant again:

    python mutation/recheck.py decoder          # mutation/out/decoder.sqlite, its target's tests

Each survivor is applied (``cosmic-ray apply``) to a fresh copy of the work tree, the target's
test command is run, and the module is restored. Exit code 1 when one still survives.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted import ROOT, work_tree_copy  # noqa: E402 - a sibling script, not a package


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", help="a target of mutation/targets/ whose run is in mutation/out/")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (default 300)")
    args = parser.parse_args()
    config = tomllib.loads((ROOT / "mutation" / "targets" / f"{args.target}.toml").read_text())["cosmic-ray"]
    session = sqlite3.connect(ROOT / "mutation" / "out" / f"{args.target}.sqlite")
    survivors = session.execute(
        "SELECT s.module_path, s.operator_name, s.occurrence, s.start_pos_row FROM work_results r "
        "JOIN mutation_specs s ON s.job_id = r.job_id WHERE r.test_outcome = 'SURVIVED' "
        "ORDER BY s.module_path, s.start_pos_row, s.operator_name, s.occurrence"
    ).fetchall()
    cosmic_ray = Path(sys.executable).with_name("cosmic-ray")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    still = 0
    with tempfile.TemporaryDirectory(prefix="recheck-") as folder:
        copy = Path(folder)
        work_tree_copy(copy)
        env["PYTHONPATH"] = str(copy)
        for module, operator, occurrence, line in survivors:
            target = copy / module
            original = target.read_text()
            try:
                subprocess.run(
                    [cosmic_ray, "apply", module, operator, str(occurrence)],
                    cwd=copy,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                try:
                    result = subprocess.run(
                        shlex.split(config["test-command"]),
                        cwd=copy,
                        env=env,
                        capture_output=True,
                        timeout=args.timeout,
                    )
                    outcome = "killed" if result.returncode != 0 else "SURVIVED"
                except subprocess.TimeoutExpired:
                    outcome = "killed (timeout)"
            finally:
                target.write_text(original)
            still += outcome == "SURVIVED"
            print(f"{module}:{line:<5} {operator.split('/')[-1]:42} {occurrence:3}  {outcome}", flush=True)
    print(f"{len(survivors) - still} of {len(survivors)} survivors killed now, {still} still survive")
    return 1 if still else 0


if __name__ == "__main__":
    sys.exit(main())
