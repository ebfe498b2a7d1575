"""Storage per order: what a burst adds to the orders database and to the Temporal store.

The orders database: `pg_total_relation_size` (table, indexes, TOAST) of every table of
the `public` schema, before and after the burst, divided by the orders processed: rows
and the dead versions their updates leave until vacuum reuses the space. The outbox's
rows go after `OUTBOX_RETENTION`, so its share is held only for that long. The Temporal
store: the pages in use of the dev server's SQLite database (histories, mutable state,
timers, visibility and their indexes), which a cluster on PostgreSQL does not share:
the history bytes (bench/history.py) are the portable figure.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.report import Results

TABLE_SIZES = """
SELECT c.relname, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
"""


@dataclass(frozen=True)
class Sizes:
    tables: dict[str, int]  # table -> bytes
    temporal: int  # bytes of the dev server's SQLite files


def _bytes(folder: Path) -> int:
    """The pages in use of the dev server's SQLite database, as a reader sees it (its
    write-ahead log's committed pages included; the log file's own size is not data)."""
    total = 0
    for path in folder.glob("*.db"):
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            pages, size, free = (
                db.execute(f"PRAGMA {p}").fetchone()[0]
                for p in ("page_count", "page_size", "freelist_count")
            )
        total += (pages - free) * size
    return total


async def sizes(conn: asyncpg.Connection, temporal_data: Path) -> Sizes:
    tables = {str(name): int(size) for name, size in await conn.fetch(TABLE_SIZES)}
    return Sizes(tables, _bytes(temporal_data))


def report(label: str, before: Sizes, after: Sizes, orders: int, results: Results) -> None:
    """Print and record the bytes per order each table, and the Temporal store, grew by."""
    if not orders:
        return
    grown = {t: (after.tables[t] - before.tables.get(t, 0)) / orders for t in after.tables}
    shown = ", ".join(f"{t} {b:,.0f}" for t, b in sorted(grown.items(), key=lambda x: -x[1]) if b)
    total = sum(grown.values())
    temporal = (after.temporal - before.temporal) / orders
    print(f"\nstorage per order [{label}], bytes: orders database {total:,.0f} ({shown})")
    print(f"  Temporal dev server's SQLite database {temporal:,.0f}")
    results.add(f"orders database bytes per order [{label}]", total, "B")
    results.add(f"Temporal SQLite bytes per order [{label}]", temporal, "B")
