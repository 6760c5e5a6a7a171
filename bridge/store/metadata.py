"""The store's one ``MetaData``, its naming convention and the column types tables share.

The core tables (``bridge.store.schema``) and the tables of other modules (the visibility
index) are declared on it; ``bridge.tables`` imports every one of them.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import MetaData, String

from connectors.common.limits import MAX_EVENT_ID

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

#: ``info`` key of an index built on some dialects only (with ``ddl_if``): the dialects' names.
#: Alembic's comparison knows nothing of ``ddl_if``; ``include_object`` reads this.
ONLY_ON = "only_on_dialects"


def include_object(dialect_name: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's ``include_object`` hook for a store of ``dialect_name``: leaves out of the
    comparison the declared indexes that dialect does not build."""

    def include(obj: Any, _name: str | None, type_: str, reflected: bool, _other: Any) -> bool:
        if type_ == "index" and not reflected:
            only_on = obj.info.get(ONLY_ON)
            return only_on is None or dialect_name in only_on
        return True

    return include


SYS_ID = String(32)
#: Sized from what the decoder accepts: a value that passed it always fits.
EVENT_ID = String(MAX_EVENT_ID)
