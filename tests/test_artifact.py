"""The wheel is the artifact: it carries the default mappings, and a bridge installed from it
(no repository around) finds and uses them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # hatchling comes with the test extra; no build isolation, so no download
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return target


def test_the_wheel_carries_every_file_of_the_mappings_folder(wheel: Path) -> None:
    shipped = {
        str(p.relative_to(ROOT / "mappings")): p.read_bytes() for p in (ROOT / "mappings").rglob("*") if p.is_file()
    }
    prefix = "bridge/default_mappings/"
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name.removeprefix(prefix): archive.read(name) for name in archive.namelist() if name.startswith(prefix)
        }
    assert packaged == shipped


def _bridge(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed bridge, from a folder with no repository: only the wheel's code is found."""
    env = {**os.environ, "PYTHONPATH": str(installed)}
    env = {k: v for k, v in env.items() if not k.startswith("BRIDGE_")}
    return subprocess.run(
        [sys.executable, "-c", "from cli import app; app()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_installed_bridge_defaults_to_its_packaged_mappings(installed: Path, tmp_path: Path) -> None:
    shown = _bridge(installed, tmp_path, "config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert str(installed / "bridge" / "default_mappings") in shown.stdout
    validated = _bridge(installed, tmp_path, "mappings", "validate")
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.startswith("valid: version")


def test_a_mappings_folder_in_the_working_directory_wins(installed: Path, tmp_path: Path) -> None:
    written = _bridge(installed, tmp_path, "mappings", "init", "mappings")
    assert written.returncode == 0, written.stderr
    (tmp_path / "mappings" / "bridge.yaml").write_text("version: [not, a, string]\n")
    validated = _bridge(installed, tmp_path, "mappings", "validate")
    assert validated.returncode == 1  # the local (broken) copy was read, not the packaged one
    assert "bridge.yaml" in validated.stderr
