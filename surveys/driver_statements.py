"""Core statements compiled once and run on the DBAPI cursor, for the hottest paths only.

The citizen's survey page runs one statement per visit. Through ``Connection.execute``
SQLAlchemy spends about twice the statement's own client-side cost on per-execution
work (cache-key lookup, parameter set-up, result metadata), measured in
docs/survey.md. A :class:`DriverStatement` keeps the statement written in Core, compiles
it once per dialect, types its parameters and columns with the same bind and result
processors SQLAlchemy would use, and hands the row the driver returns back as
``Connection.execute`` would have. Everything else uses ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class DriverStatement:
    """One statement as the driver's SQL, with its constants bound and its types' processors."""

    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for positional paramstyles
    constants: Mapping[str, Any]
    bind_processors: Mapping[str, Processor]
    result_processors: Sequence[Processor | None]

    @classmethod
    def compile(cls, statement: Select[Any], dialect: Dialect, parameters: Sequence[str]) -> DriverStatement:
        """Compile ``statement`` for ``dialect``; ``parameters`` are the names callers pass.

        Every other bound value is a constant of the statement, processed here once.
        Expanding parameters (``in_()`` with a list) are refused: they are rendered per
        execution, which is the work this class exists to avoid.
        """
        compiled = statement.compile(dialect=dialect)
        binds: Mapping[str, Any] = {name: compiled.binds[name] for name in compiled.params}
        expanding = [name for name, bind in binds.items() if bind.expanding]
        if expanding:
            raise ValueError(f"expanding parameters cannot be compiled once: {expanding}")
        unknown = set(parameters) - set(binds)
        if unknown:
            raise ValueError(f"the statement has no parameters {sorted(unknown)}")
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in binds.items()}
        columns = statement.selected_columns
        constants = {
            name: _process(processors[name], bind.value) for name, bind in binds.items() if name not in parameters
        }
        return cls(
            sql=str(compiled),
            positions=tuple(compiled.positiontup) if compiled.positiontup is not None else None,
            constants=constants,
            bind_processors={name: processor for name in parameters if (processor := processors[name]) is not None},
            result_processors=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
            ),
        )

    def first(self, connection: Connection, parameters: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run on ``connection``'s DBAPI connection (its transaction, if any); the first row or None."""
        values = dict(self.constants)
        for name, value in parameters.items():
            values[name] = _process(self.bind_processors.get(name), value)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, values if self.positions is None else [values[name] for name in self.positions])
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return tuple(_process(processor, value) for value, processor in zip(row, self.result_processors, strict=True))


def _process(processor: Processor | None, value: Any) -> Any:
    return value if processor is None else processor(value)
