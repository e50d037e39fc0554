"""The grading journal: one SQLite row per submission, so a stopped run resumes where it was.

A row is `pending` until a worker takes it, `running` while graded and `done`
once its outputs are in place (they are renamed into place before the row says
so). A run killed halfway leaves `running` rows: the next run grades them again.
The journal also records the autograder zip's hash, so that a resumed run never
mixes grades from two versions of the tests.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grading (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL, finished REAL,
    outcome TEXT, wall_s REAL, peak_memory_mb REAL
);
"""


class JournalError(RuntimeError):
    pass


class Journal:
    """Thread-safe: workers report from their threads through one connection and a lock."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _exec(self, sql: str, args=()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def bind_autograder(self, digest: str, restart: bool = False) -> None:
        """Record the zip's hash; refuse to resume grades made with another zip."""
        row = self._exec("SELECT value FROM meta WHERE key = 'autograder_sha256'")
        if row and row[0][0] != digest and not restart:
            raise JournalError(
                f"{self.path}: this output folder holds grades made with another autograder zip "
                "(its tests changed); pass --restart to regrade everything, or another --out"
            )
        if restart:
            self._exec("DELETE FROM grading")
        self._exec("INSERT OR REPLACE INTO meta VALUES ('autograder_sha256', ?)", (digest,))

    def add(self, keys: list[str]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO grading (key) VALUES (?)", [(k,) for k in keys]
            )

    def status(self) -> dict[str, str]:
        return dict(self._exec("SELECT key, status FROM grading"))

    def start(self, key: str) -> None:
        self._exec(
            "UPDATE grading SET status='running', attempts=attempts+1, started=? WHERE key=?",
            (time.time(), key),
        )

    def finish(self, key: str, outcome: str, wall_s: float, peak_memory_mb: float | None) -> None:
        self._exec(
            "UPDATE grading SET status='done', finished=?, outcome=?, wall_s=?, peak_memory_mb=? "
            "WHERE key=?",
            (time.time(), outcome, wall_s, peak_memory_mb, key),
        )

    def reopen(self, key: str) -> None:
        self._exec("UPDATE grading SET status='pending' WHERE key=?", (key,))
