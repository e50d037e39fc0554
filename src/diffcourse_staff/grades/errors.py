"""The one error the grade tools raise for bad input: it names file, row and column."""

from __future__ import annotations

from pathlib import Path


class GradesInputError(ValueError):
    """A problem in an input file. `row` counts as a spreadsheet does (header = row 1)."""

    def __init__(
        self, path: Path | str, problem: str, row: int | None = None, column: str | None = None
    ):
        self.path, self.problem, self.row, self.column = Path(path), problem, row, column
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{': '.join(where)}: {problem}")
