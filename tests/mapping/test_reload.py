"""Hot reload: a valid change is swapped in; an invalid one is rejected and the last good set stays."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bridge.mapping import MappingReloader, MappingValidationError

SHIPPED = Path(__file__).parents[2] / "mappings"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(SHIPPED, target, ignore=shutil.ignore_patterns("tests", "schema"))
    return target


def _set_version(folder: Path, version: str) -> None:
    path = folder / "bridge.yaml"
    text = path.read_text()
    path.write_text(text.replace('version: "2026.11.1"', f'version: "{version}"'))


def test_a_good_change_is_swapped_in(folder: Path) -> None:
    reloader = MappingReloader(folder)
    old_hash = reloader.active.content_hash
    assert reloader.check() is False  # nothing changed
    _set_version(folder, "2026.11.2")
    assert reloader.check() is True
    assert (reloader.active.version, reloader.reload_count, reloader.rejected_count) == ("2026.11.2", 1, 0)
    assert reloader.active.content_hash != old_hash and reloader.last_error is None


def test_a_bad_change_is_rejected_and_the_last_good_set_stays(folder: Path) -> None:
    reloader = MappingReloader(folder)
    good = reloader.active
    (folder / "broken.yaml").write_text("table_maps:\n  - name: x\n    source_table: nope\n")
    assert reloader.check() is False
    assert reloader.active is good
    assert (reloader.reload_count, reloader.rejected_count) == (0, 1)
    assert reloader.last_error is not None and reloader.last_error.diagnostics[0].file.endswith("broken.yaml")
    (folder / "broken.yaml").unlink()
    _set_version(folder, "2026.11.3")
    assert reloader.check() is True and reloader.last_error is None and reloader.active.version == "2026.11.3"


def test_a_change_of_comments_only_keeps_the_active_set(folder: Path) -> None:
    reloader = MappingReloader(folder)
    good = reloader.active
    (folder / "bridge.yaml").write_text("# a new comment\n" + (folder / "bridge.yaml").read_text())
    assert reloader.check() is False and reloader.active is good and reloader.rejected_count == 0


def test_an_invalid_folder_refuses_to_start(folder: Path) -> None:
    (folder / "bridge.yaml").write_text("version: [1]\n")
    with pytest.raises(MappingValidationError):
        MappingReloader(folder)


async def test_watch_polls_until_stopped(folder: Path) -> None:
    reloader = MappingReloader(folder, interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(reloader.watch(stop))
    _set_version(folder, "2026.12.0")
    for _ in range(100):
        if reloader.reload_count:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert reloader.active.version == "2026.12.0"
