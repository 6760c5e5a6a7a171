"""The store's SQL, written once as SQLAlchemy Core and run as prepared statements on the drivers.

Building a Core statement, cache-keying it and processing its parameters costs more than
SQLite takes to run it (~90 µs against a few), and a batch runs dozens. So a statement of the
batch path is declared once (:class:`Statement`), compiled once per dialect to its SQL text and
parameter order (:class:`Sql`), and run by the driver itself: ``sqlite3`` or ``asyncpg``, which
keep it prepared (``sqlite3``'s statement cache, ``asyncpg``'s per connection). The schema,
the migrations and the operators' queries stay plain SQLAlchemy.

A list of ids is one parameter, whatever its length: ``IN (SELECT value FROM json_each(?))`` on
SQLite, ``IN (SELECT unnest($1::text[]))`` on PostgreSQL (:func:`id_list`). So one prepared
statement serves every batch size, with no chunking below the drivers' limits.

Values are converted here, not by SQLAlchemy's bind processors (this path never goes through
them): timestamps are written as SQLAlchemy's SQLite dialect writes them (naive UTC text), so
that the operators' SQLAlchemy queries read them back; JSON columns as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from operator import itemgetter
from typing import Any, Final, TypeAlias, TypeVar, Unpack

from sqlalchemy import (
    JSON,
    CompoundSelect,
    DateTime,
    Delete,
    Insert,
    String,
    Table,
    Text,
    TextClause,
    Update,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, registry, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select

from connectors.common import jsoncodec

T = TypeVar("T")

SQLITE: Final = "sqlite"
POSTGRESQL: Final = "postgresql"

#: Rows per statement where a statement must be cut (SQLite's limits on parameters, never hit
#: by id lists, which are one parameter).
CHUNK = 2000

#: How SQLAlchemy's SQLite dialect stores a ``DateTime``: naive text, read back by its queries.
SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"

_DIALECTS: dict[str, Dialect] = {
    SQLITE: sqlite.dialect(paramstyle="qmark"),
    # by name: the asyncpg dialect's class has an untyped constructor
    POSTGRESQL: registry.load("postgresql.asyncpg")(),
}


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def dialect_insert(dialect_name: str, table: Table) -> Any:
    """An INSERT with the dialect's ``on_conflict_do_*`` (both dialects spell them alike)."""
    return (postgresql if dialect_name == POSTGRESQL else sqlite).insert(table)


def values_of(table: Table, *excluded: str) -> dict[str, Any]:
    """Every column of ``table`` (but ``excluded``) as a parameter of its name and type: rows
    are given as dicts with exactly these keys."""
    return {c.name: bindparam(c.name, type_=c.type) for c in table.columns if c.name not in excluded}


def insert_rows(dialect_name: str, table: Table, *excluded: str) -> Any:
    """An INSERT of whole rows, with the dialect's ``on_conflict_do_*`` available."""
    return dialect_insert(dialect_name, table).values(values_of(table, *excluded))


def id_list(name: str, dialect_name: str, of: Any = Text) -> Select[Any]:
    """A subquery of the values in the list parameter ``name`` (strings, or ``of`` another
    type, such as ``Integer``): ``column.in_(id_list(…))``."""
    if dialect_name == POSTGRESQL:
        return select(func.unnest(bindparam(name, type_=ARRAY(of))))
    return select(func.json_each(bindparam(name, type_=String)).table_valued("value").c.value)


@lru_cache(maxsize=64)  # a batch stamps all its rows with one moment: format it once
def sqlite_timestamp(moment: datetime) -> str:
    """A timestamp as SQLAlchemy's SQLite dialect stores it (UTC, naive)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime(SQLITE_TIMESTAMP)


def read_timestamp(value: Any) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands back text, PostgreSQL a
    datetime)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_json(value: Any) -> Any:
    """A stored JSON column's value (both drivers hand back its text)."""
    return jsoncodec.loads(value) if isinstance(value, (str, bytes)) else value


def _json_text(value: Any) -> str | None:
    # A str is JSON text already (a record's data kept as it arrived): our JSON columns hold
    # objects, never a bare string.
    if value is None or isinstance(value, str):
        return value
    return jsoncodec.dumps(value)


def _sqlite_time(value: Any) -> Any:
    return sqlite_timestamp(value) if isinstance(value, datetime) else value


def _sqlite_list(value: Any) -> str:
    return jsoncodec.dumps(list(value))


def _pg_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else list(value)


#: per dialect, per kind of column: the conversion of a Python value to the driver's
_CONVERTERS: dict[str, dict[str, Callable[[Any], Any]]] = {
    SQLITE: {"json": _json_text, "timestamp": _sqlite_time, "list": _sqlite_list},
    POSTGRESQL: {"json": _json_text, "list": _pg_list},
}


def _kind(type_: Any) -> str:
    if isinstance(type_, JSON):
        return "json"
    if isinstance(type_, DateTime):
        return "timestamp"
    if isinstance(type_, ARRAY):
        return "list"
    return "plain"


@dataclass(frozen=True, slots=True)
class Sql:
    """One statement compiled for one dialect: its text and how to bind its parameters."""

    text: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]
    _getter: Callable[[Mapping[str, Any]], Any] = field(repr=False)

    def bind(self, params: Mapping[str, Any] = {}) -> tuple[Any, ...]:
        """The positional parameters for ``params`` (by name; compiled literals filled in)."""
        if not self.names:
            return ()
        values = list(self._getter({**self.defaults, **params} if self.defaults else params))
        for index, convert in self.converters:
            values[index] = convert(values[index])
        return tuple(values)

    def bind_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """``bind`` for every row of an ``executemany``."""
        if self.defaults:
            return [self.bind(row) for row in rows]
        getter, converters = self._getter, self.converters
        if not converters:
            return [tuple(getter(row)) for row in rows]
        bound = []
        for row in rows:
            values = list(getter(row))
            for index, convert in converters:
                values[index] = convert(values[index])
            bound.append(tuple(values))
        return bound


#: A SELECT (and a UNION of them) of any columns: SQLAlchemy types one by its columns' types.
AnySelect: TypeAlias = Select[Unpack[tuple[Any, ...]]]
AnyCompoundSelect: TypeAlias = CompoundSelect[Unpack[tuple[Any, ...]]]


#: What the batch path's statements are: Core statements that compile to one DQL/DML string
#: (executable, and compilable for a dialect; DDL and ORM statements are not among them).
CoreStatement = AnySelect | AnyCompoundSelect | Insert | Update | Delete | TextClause


def compile_sql(statement: CoreStatement, dialect_name: str, *, lists: frozenset[str] = frozenset()) -> Sql:
    """``statement`` compiled for ``dialect_name``; ``lists`` names its id-list parameters."""
    compiled = statement.compile(dialect=_DIALECTS[dialect_name])
    if "__[POSTCOMPILE_" in compiled.string:
        raise ValueError(
            f"{statement!r}: an expanding IN list cannot be prepared once; "
            "use id_list() for a list parameter, or = / OR for constants"
        )
    names = tuple(compiled.positiontup or ())
    converters = _CONVERTERS[dialect_name]
    conversions = []
    for index, name in enumerate(names):
        kind = "list" if name in lists else _kind(compiled.binds[name].type)
        if kind in converters:
            conversions.append((index, converters[kind]))
    defaults = {name: value for name, value in compiled.params.items() if name in names and value is not None}
    if len(names) == 1:
        single = itemgetter(names[0])
        getter: Callable[[Mapping[str, Any]], Any] = lambda row: (single(row),)  # noqa: E731
    else:
        getter = itemgetter(*names) if names else (lambda row: ())
    return Sql(compiled.string, names, defaults, tuple(conversions), getter)


class Statement:
    """A statement of the batch path, declared once and compiled once per dialect.

    ``build(dialect_name)`` returns the Core statement (it may differ by dialect: id lists,
    upserts); ``lists`` names the parameters that carry a list of ids.
    """

    __slots__ = ("name", "_build", "_lists", "_compiled")

    def __init__(self, name: str, build: Callable[[str], CoreStatement], *lists: str) -> None:
        self.name = name
        self._build = build
        self._lists = frozenset(lists)
        self._compiled: dict[str, Sql] = {}

    def sql(self, dialect_name: str) -> Sql:
        compiled = self._compiled.get(dialect_name)
        if compiled is None:
            compiled = self._compiled[dialect_name] = compile_sql(
                self._build(dialect_name), dialect_name, lists=self._lists
            )
        return compiled

    def statement(self, dialect_name: str) -> CoreStatement:
        """The Core statement (for runs through SQLAlchemy: the operators' tools)."""
        return self._build(dialect_name)

    def __repr__(self) -> str:
        return f"Statement({self.name!r})"


__all__ = [
    "CHUNK",
    "POSTGRESQL",
    "SQLITE",
    "Sql",
    "Statement",
    "chunks",
    "compile_sql",
    "dialect_insert",
    "id_list",
    "insert_rows",
    "values_of",
    "read_json",
    "read_timestamp",
    "sqlite_timestamp",
]
