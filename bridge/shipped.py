"""Where the default mapping set lives: inside the installed package, or in the repository.

The repository keeps the admins' YAML in ``mappings/`` (its home, next to its tests and schema);
the wheel carries a copy of that folder as ``bridge/default_mappings`` (``force-include`` in
pyproject.toml), so ``pip install`` alone gives a bridge with something to map.
"""

from __future__ import annotations

from pathlib import Path

#: In an installed wheel: the copy of the repository's mappings/ folder.
PACKAGED_MAPPINGS = Path(__file__).resolve().parent / "default_mappings"
#: In a source checkout (or an editable install of one): the repository's own folder.
CHECKOUT_MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
#: The folder the settings name when nobody configured one, if the working directory has it.
LOCAL_MAPPINGS = Path("mappings")


def shipped_mappings_dir() -> Path:
    """The default mapping set this installation carries."""
    return PACKAGED_MAPPINGS if PACKAGED_MAPPINGS.is_dir() else CHECKOUT_MAPPINGS


def default_mappings_dir() -> Path:
    """``./mappings`` where the working directory has one (a checkout, a mounted folder),
    otherwise the shipped set: an installed bridge always has a valid set to start from."""
    return LOCAL_MAPPINGS if LOCAL_MAPPINGS.is_dir() else shipped_mappings_dir()
