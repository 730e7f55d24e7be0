"""The result store: an embedded SQLite database (``results.sqlite``) inside an output directory.

One row per configuration (keyed by :attr:`RunConfig.key`) with its status and final metrics, and
its curves as float arrays. A result is written in one transaction, so a process killed at any
moment leaves every result either fully present or absent; a rerun skips finished keys. Only the
driver process writes.

The file records what it is: SQLite's ``application_id`` marks a beyondadam store and
``user_version`` its schema version (:data:`SCHEMA_VERSION`). A store is checked when it is opened
(:func:`check_store` checks without creating anything, for callers that want to refuse before any
work): a file that is not a database, a database of another program or a store of another schema
version raises :class:`StoreError`, one line naming the file and what to do, never an SQL error
after training. Stores written before the version was recorded have the version-1 tables and are
stamped when opened; a version-1 store is migrated to version 2 in place when opened (two
columns added: ``validation`` and ``final_val_loss``; its runs had no validation split).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pandas as pd

from beyondadam.experiments.runs import RunConfig, RunResult

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "ResultStore",
    "StoreError",
    "check_store",
    "load_curves",
    "load_results",
]

DB_NAME = "results.sqlite"
#: the schema version this code reads and writes (SQLite ``user_version``).
SCHEMA_VERSION = 2
#: SQLite ``application_id`` of a beyondadam store ("bAdA").
APPLICATION_ID = 0x62416441

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    optimizer TEXT NOT NULL,
    hparams TEXT NOT NULL,
    seed INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    eval_every INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    status TEXT NOT NULL,
    diverged_step INTEGER,
    final_train_loss REAL,
    final_test_loss REAL,
    final_test_acc REAL,
    wall_time REAL,
    test_note TEXT,
    engine TEXT,
    finished_at REAL,
    validation INTEGER NOT NULL DEFAULT 0,
    final_val_loss REAL
);
CREATE TABLE IF NOT EXISTS curves (
    key TEXT NOT NULL REFERENCES runs(key),
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    dtype TEXT NOT NULL,
    PRIMARY KEY (key, name)
);
"""
_CURVES = ("train_loss", "test_steps", "test_loss", "test_acc", "val_loss")
#: the columns version 2 added to ``runs`` (at its end, so a migrated table equals a new one).
_ADDED_V2 = (
    ("validation", "INTEGER NOT NULL DEFAULT 0"),
    ("final_val_loss", "REAL"),
)
_TABLES_V1 = {
    "runs": (
        "key", "task", "optimizer", "hparams", "seed", "steps", "eval_every", "batch_size",
        "status", "diverged_step", "final_train_loss", "final_test_loss", "final_test_acc",
        "wall_time", "test_note", "engine", "finished_at",
    ),
    "curves": ("key", "name", "data", "dtype"),
}  # fmt: skip
_TABLES = {**_TABLES_V1, "runs": _TABLES_V1["runs"] + tuple(name for name, _ in _ADDED_V2)}
_WHAT_TO_DO = "use another --out (out_dir) or move the file away"


class StoreError(RuntimeError):
    """A result store that cannot be used (not a database, another schema or version)."""


def _state(conn: sqlite3.Connection, path: Path) -> str:
    """What the database is: ``"ours"``, ``"empty"``, ``"v1"`` or ``"unstamped"``.

    ``"v1"``: a version-1 store (stamped, or written before the version was recorded), to be
    migrated; ``"unstamped"``: this schema's tables without the stamp. Else :class:`StoreError`.
    """
    try:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            name: tuple(
                c[0] for c in conn.execute("SELECT name FROM pragma_table_info(?)", (name,))
            )
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not a result store: not an SQLite database ({exc}); {_WHAT_TO_DO}"
        ) from None
    if app == APPLICATION_ID:
        if version == 1 and tables == _TABLES_V1:
            return "v1"
        if version != SCHEMA_VERSION:
            newer = "a newer" if version > SCHEMA_VERSION else "an older"
            raise StoreError(
                f"{path} is a result store of schema version {version} (written by {newer} "
                f"beyondadam); this version reads version {SCHEMA_VERSION}; {_WHAT_TO_DO}"
            )
        return "ours"
    if app == 0 and not tables:
        return "empty"
    if app == 0 and version == 0 and tables == _TABLES_V1:
        return "v1"
    if app == 0 and version == 0 and tables == _TABLES:
        return "unstamped"
    names = ", ".join(sorted(tables)) or "none"
    raise StoreError(
        f"{path} is an SQLite database of another program or schema (tables: {names}), not a "
        f"beyondadam result store; {_WHAT_TO_DO}"
    )


def check_store(out_dir: str | Path) -> None:
    """Raise :class:`StoreError` if ``out_dir``'s store exists and cannot be used; create nothing.

    Call it before any work: :class:`ResultStore` checks the same when it opens the store.
    """
    path = Path(out_dir) / DB_NAME
    if not path.exists():
        return
    if not path.is_file():
        raise StoreError(f"{path} is not a file; {_WHAT_TO_DO}")
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=60)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be opened ({exc}); {_WHAT_TO_DO}") from None
    try:
        _state(conn, path)
    finally:
        conn.close()


def _last(a: np.ndarray) -> float | None:
    return float(a[-1]) if len(a) else None


class ResultStore:
    """Results of one output directory. Use as a context manager or call :meth:`close`."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / DB_NAME
        check_store(self.out_dir)
        self.conn = sqlite3.connect(self.path, timeout=60)
        try:
            # the check and the stamp in one write transaction: two processes opening a new
            # store at once both see a consistent state
            self.conn.execute("BEGIN IMMEDIATE")
            state = _state(self.conn, self.path)
            if state == "v1":
                for name, decl in _ADDED_V2:
                    self.conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {decl}")
            if state != "ours":
                for statement in _SCHEMA.split(";"):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.commit()
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
        except BaseException:
            self.conn.close()
            raise

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    def finished_keys(self) -> set[str]:
        """Keys of every stored result (done or diverged)."""
        return {row[0] for row in self.conn.execute("SELECT key FROM runs")}

    def put(self, result: RunResult, last_frac: float = 0.1) -> None:
        """Store one result and its curves atomically (a duplicate key is ignored)."""
        self.put_many([result], last_frac)

    def put_many(self, results: list[RunResult], last_frac: float = 0.1) -> None:
        """Store several results in one transaction: a kill leaves all of them or none."""
        with self.conn:  # one transaction
            for result in results:
                self._insert(result, last_frac)

    def _insert(self, result: RunResult, last_frac: float) -> None:
        c = result.config
        row = (
            c.key, c.task, c.optimizer, c.hparams, c.seed, c.steps, c.eval_every, c.batch_size,
            result.status, result.diverged_step, result.final_train_loss(last_frac),
            _last(result.test_loss), _last(result.test_acc), result.wall_time, result.test_note,
            result.engine, time.time(), int(c.validation),
            result.final_val_loss() if c.validation else None,
        )  # fmt: skip
        cur = self.conn.execute(
            f"INSERT OR IGNORE INTO runs VALUES ({','.join('?' * len(row))})", row
        )
        if cur.rowcount == 0:
            return
        for name in _CURVES:
            if name == "val_loss" and not c.validation:
                continue  # no split, no curve (as in a version-1 store)
            arr = np.ascontiguousarray(getattr(result, name))
            self.conn.execute(
                "INSERT INTO curves VALUES (?, ?, ?, ?)",
                (c.key, name, arr.tobytes(), arr.dtype.str),
            )

    def get(self, key: str) -> RunResult | None:
        """The stored result for ``key``, or None."""
        cur = self.conn.execute(
            "SELECT task, optimizer, hparams, seed, steps, eval_every, batch_size, validation, "
            "status, diverged_step, wall_time, test_note, engine FROM runs WHERE key = ?",
            (key,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        cfg = RunConfig(*row[:7], validation=bool(row[7]))
        curves = {
            name: np.frombuffer(data, dtype=np.dtype(dtype)).copy()
            for name, data, dtype in self.conn.execute(
                "SELECT name, data, dtype FROM curves WHERE key = ?", (key,)
            )
        }
        empty = np.empty(0, dtype=np.float64)
        return RunResult(
            config=cfg,
            status=row[8],
            diverged_step=row[9],
            wall_time=row[10],
            test_note=row[11],
            engine=row[12],
            **{n: curves.get(n, empty) for n in _CURVES},
        )

    def runs(self) -> pd.DataFrame:
        """One row per stored run (hyperparameters expanded into ``hp_*`` columns)."""
        df = pd.read_sql_query("SELECT * FROM runs ORDER BY rowid", self.conn)
        if len(df):
            hp = pd.json_normalize([json.loads(h) for h in df["hparams"]]).add_prefix("hp_")
            if "hp_betas" in hp:
                b = hp.pop("hp_betas")
                hp["hp_beta1"] = [x[0] if isinstance(x, list) else np.nan for x in b]
                hp["hp_beta2"] = [x[1] if isinstance(x, list) else np.nan for x in b]
            df = pd.concat([df, hp], axis=1)
        return df

    def curves(self) -> pd.DataFrame:
        """Long format: key, curve (train_loss/test_loss/test_acc/val_loss), step, value.

        ``val_loss`` rows only for runs with a validation split.
        """
        frames = []
        for key in self.finished_keys():
            r = self.get(key)
            assert r is not None
            n = len(r.train_loss)
            frames.append(
                pd.DataFrame(
                    {"key": key, "curve": "train_loss", "step": np.arange(1, n + 1),
                     "value": r.train_loss.astype(np.float64)}
                )
            )  # fmt: skip
            for name in ("test_loss", "test_acc", "val_loss"):
                if name == "val_loss" and not r.config.validation:
                    continue
                frames.append(
                    pd.DataFrame(
                        {"key": key, "curve": name, "step": r.test_steps,
                         "value": getattr(r, name)}
                    )
                )  # fmt: skip
        if not frames:
            return pd.DataFrame(columns=["key", "curve", "step", "value"])
        return pd.concat(frames, ignore_index=True)

    def export(self, path: str | Path, curves: bool = False) -> Path:
        """Write runs (or, with ``curves``, the long-format curves) to ``.csv`` or ``.parquet``."""
        path = Path(path)
        df = self.curves() if curves else self.runs()
        if path.suffix == ".csv":
            df.to_csv(path, index=False)
        elif path.suffix in (".parquet", ".pq"):
            df.to_parquet(path, index=False)
        else:
            raise ValueError(f"export path must end in .csv or .parquet, got {path.name!r}")
        return path


def load_results(out_dir: str | Path) -> pd.DataFrame:
    """A pandas DataFrame of the runs stored in ``out_dir`` (for analysis)."""
    with ResultStore(out_dir) as store:
        return store.runs()


def load_curves(out_dir: str | Path) -> pd.DataFrame:
    """Long-format curves of every run in ``out_dir`` (join :func:`load_results` on ``key``)."""
    with ResultStore(out_dir) as store:
        return store.curves()
