"""The store's one ``MetaData``, its naming convention and the column types tables share.

The core tables (``bridge.store.schema``) and the tables of other modules (the visibility
index) are declared on it; ``bridge.tables`` imports every one of them.
"""

from __future__ import annotations

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

SYS_ID = String(32)
#: Sized from what the decoder accepts: a value that passed it always fits.
EVENT_ID = String(MAX_EVENT_ID)
