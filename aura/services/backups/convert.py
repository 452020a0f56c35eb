"""Restoring a backup of the other database kind (SQLite into PostgreSQL, or the reverse).

The backup's database is restored into a scratch place and brought to this code's newest
migration; a new, empty database beside the live one is migrated the same way; then every
table's rows are copied through SQLAlchemy in dependency order (parents before children), and
PostgreSQL's id sequences are moved past the copied ids. Search indexes fill themselves: SQLite's
FTS table through its triggers, PostgreSQL's generated tsvector column on insert.
"""

from __future__ import annotations

import sqlalchemy as sa

from aura.extensions import db
from aura.services.backups import kinds
from aura.services.backups.archive import Manifest

BATCH = 500


def convert_database(manifest: Manifest, dump_path: str, url: sa.URL, stamp: str):
    """A staged database of the live kind holding every row of the backup's database."""
    source_kind = kinds.kind_of(manifest)
    target_kind = kinds.KINDS[kinds.kind_name(url)]
    source = source_kind.scratch_copy(
        dump_path,
        manifest.name,
        manifest.contents,
        server=kinds.scratch_server(manifest.database_kind),
    )
    try:
        kinds.migrate_to_head(source.url)
        target = target_kind.stage_empty(url, stamp)
        try:
            kinds.migrate_to_head(target.url)
            copy_rows(source.url, target.url)
        except BaseException:
            target.discard()
            raise
    finally:
        source.discard()
    return target


def copy_rows(source_url: str, target_url: str) -> int:
    """Copy every row of every Aura table from one database to another (same schema); count."""
    import aura.models  # noqa: F401  (every table is on the metadata)

    source, target = sa.create_engine(source_url), sa.create_engine(target_url)
    copied = 0
    try:
        with source.connect() as reading, target.begin() as writing:
            for table in db.metadata.sorted_tables:
                result = reading.execution_options(stream_results=True).execute(sa.select(table))
                for batch in result.partitions(BATCH):
                    writing.execute(table.insert(), [dict(row._mapping) for row in batch])
                    copied += len(batch)
            if writing.dialect.name == "postgresql":
                _move_sequences(writing)
    finally:
        source.dispose()
        target.dispose()
    return copied


def _move_sequences(connection: sa.Connection) -> None:
    quote = connection.dialect.identifier_preparer
    for table in db.metadata.sorted_tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or not isinstance(columns[0].type, sa.Integer):
            continue
        column = columns[0]
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                f"COALESCE((SELECT MAX({quote.quote(column.name)}) FROM "
                f"{quote.format_table(table)}), 0) + 1, false)"
            ),
            {"table": quote.format_table(table), "column": column.name},
        )
