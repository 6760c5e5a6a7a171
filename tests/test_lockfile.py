"""The lockfiles pin every dependency pyproject.toml declares, at a version it allows, with hashes
(``pip install --require-hashes`` refuses anything else): `make setup`, CI and the image install
exactly them. Stale after a change to pyproject.toml: `make lock`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def _pins(lockfile: str) -> dict[str, Version]:
    text = (ROOT / lockfile).read_text()
    pins: dict[str, Version] = {}
    for entry in re.split(r"\n(?=\S)", text):
        match = PIN.match(entry)
        if match:
            assert "--hash=sha256:" in entry, f"{lockfile}: {match[1]} has no hash"
            pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def _declared(*extras: str) -> list[Requirement]:
    declared = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        declared += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return declared


@pytest.mark.parametrize(
    ("lockfile", "extras"), [("requirements.lock", ()), ("requirements-test.lock", ("test", "bench"))]
)
def test_the_lockfile_pins_every_declared_dependency_within_its_bounds(lockfile: str, extras: tuple[str, ...]) -> None:
    pins = _pins(lockfile)
    for requirement in _declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lockfile} lacks {name}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lockfile} pins {name}=={pins[name]}, pyproject.toml wants {requirement.specifier}: run `make lock`"
        )


def test_the_image_installs_no_test_tool() -> None:
    runtime = _pins("requirements.lock")
    assert not {"pytest", "ruff", "mypy", "hypothesis"} & runtime.keys()
