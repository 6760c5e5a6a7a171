"""Hot reload: poll the mappings folder, validate a change as a whole, swap atomically.

A rejected change leaves the last good set active; `last_error`, `rejected_count` and the logs
say why (the HTTP readiness endpoint and the metrics read these attributes).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import structlog

from bridge.mapping.diagnostics import MappingValidationError
from bridge.mapping.engine import MappingSet
from bridge.mapping.loader import LOOKUP_DIR, load_mapping_set

log = structlog.get_logger(__name__)


class MappingReloader:
    """Holds the active `MappingSet` and replaces it when the folder changes and is valid.

    The first load happens in the constructor and raises `MappingValidationError` (a bridge
    must not start without valid mappings). Readers take `reloader.active` once per batch:
    the reference swap is atomic, and a set never changes once built.
    """

    def __init__(self, path: Path, *, interval: float = 2.0) -> None:
        self.path = Path(path)
        self.interval = interval
        self._fingerprint = self._current_fingerprint()
        self.active: MappingSet = load_mapping_set(self.path)
        self.last_error: MappingValidationError | None = None
        self.reload_count = 0
        self.rejected_count = 0

    def check(self) -> bool:
        """Reload if the files changed; True when a new set became active."""
        fingerprint = self._current_fingerprint()
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        try:
            candidate = load_mapping_set(self.path)
        except MappingValidationError as error:
            self.rejected_count += 1
            self.last_error = error
            log.warning(
                "mappings.reload_rejected",
                errors=len(error.diagnostics),
                first=error.diagnostics[0].format().splitlines()[0] if error.diagnostics else "",
                active_version=self.active.version,
                active_hash=self.active.content_hash,
            )
            return False
        self.last_error = None
        if candidate.content_hash == self.active.content_hash:
            return False  # only comments or formatting changed
        previous = self.active
        self.active = candidate
        self.reload_count += 1
        log.info(
            "mappings.reloaded",
            version=candidate.version,
            content_hash=candidate.content_hash,
            previous_version=previous.version,
            previous_hash=previous.content_hash,
        )
        return True

    async def watch(self, stop: asyncio.Event) -> None:
        """Poll every `interval` seconds until `stop` is set (file reads run in a thread)."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            except TimeoutError:
                await asyncio.to_thread(self.check)

    def _current_fingerprint(self) -> str:
        digest = hashlib.sha256()
        folder = self.path if self.path.is_dir() else self.path.parent
        files = sorted(folder.glob("*.yaml")) + sorted((folder / LOOKUP_DIR).rglob("*.yaml"))
        for file in files:
            try:
                digest.update(file.as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
            except OSError:  # deleted between listing and reading: the next poll sees it
                digest.update(file.as_posix().encode() + b"\0?\0")
        return digest.hexdigest()
