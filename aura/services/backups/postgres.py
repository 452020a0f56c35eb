"""PostgreSQL: ``pg_dump --format=custom``, checks in scratch databases, and a swap by renaming.

The connection reaches pg_dump and pg_restore through libpq's environment variables (PGHOST,
PGUSER, PGPASSWORD, ...), never through their arguments, so no password shows in ``ps`` or in
a log. A restore loads the dump into a new database next to the live one
(``<name>_restore_<random>``), then renames the live database aside and the new one into its
name in one transaction; the URL Aura is configured with keeps naming the right database.
That needs a role that owns the database and may create databases, and no other session on
the live database (stop Aura's servers and workers first).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from psycopg import sql

from aura.services.backups import archive
from aura.services.backups.errors import BackupBusy, BackupFailed, BackupRefused

KIND = "postgresql"
DUMP_FILE = "aura.pgdump"
MAX_NAME = 63  # PostgreSQL's identifier length
LIBPQ_QUERY_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def _url_params(url: sa.URL, database: str | None) -> dict[str, str]:
    """libpq parameters (by environment variable name) that ``url`` sets."""
    params = {}
    for key, value in url.query.items():
        if key in LIBPQ_QUERY_VARIABLES:
            text = value if isinstance(value, str) else ",".join(value)
            params[LIBPQ_QUERY_VARIABLES[key]] = text
    for variable, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", database or url.database),
    ):
        if value is not None:
            params[variable] = str(value)
    return params


def libpq_env(url: sa.URL, database: str | None = None) -> dict[str, str]:
    """The environment that points libpq's tools at ``url`` (the password stays out of argv).

    PG* variables already set (a passfile, a CA certificate) apply where the URL is silent,
    as they do for Aura's own connections.
    """
    return {**os.environ, **_url_params(url, database)}


def connect(url: sa.URL, database: str | None = None) -> psycopg.Connection:
    """A psycopg connection to ``database`` on ``url``'s server, in autocommit mode."""
    keywords = {variable: key for key, variable in LIBPQ_QUERY_VARIABLES.items()}
    keywords["PGDATABASE"] = "dbname"
    params = _url_params(url, database)
    return psycopg.connect(autocommit=True, **{keywords[k]: v for k, v in params.items()})


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupFailed(
            f"{name} is not installed: install the PostgreSQL client tools (the server's "
            "major version or newer)."
        )
    return path


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        detail = lines[0] if lines else f"exit status {result.returncode}"
        raise BackupFailed(f"{what} failed: {detail}")
    return result.stdout


def read_contents(connection: psycopg.Connection) -> archive.Contents:
    """The migration heads and the row count of each of Aura's tables present."""
    present = {
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    }
    tables = {}
    for table in archive.aura_tables():
        if table in present:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            tables[table] = connection.execute(query).fetchone()[0]
    heads = ()
    if "alembic_version" in present:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        heads = tuple(sorted(row[0] for row in rows))
    return archive.Contents(heads, tables)


def dump(url: sa.URL, target: str) -> archive.Contents:
    """``pg_dump --format=custom`` of the live database into ``target``; what the dump holds.

    The rows are counted in a transaction whose snapshot pg_dump then uses (``--snapshot``),
    so the counts are those of the dump exactly.
    """
    try:
        connection = connect(url)
    except psycopg.Error as error:
        raise BackupFailed(f"PostgreSQL did not answer: {error}".strip()) from None
    with connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        contents = read_contents(connection)
        argv = [
            _tool("pg_dump"),
            "--format=custom",
            "--no-password",
            f"--snapshot={snapshot}",
            f"--file={target}",
        ]
        _run(argv, libpq_env(url), "pg_dump")
        connection.execute("COMMIT")
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())
    return contents


def scratch_name(base: str, label: str) -> str:
    suffix = f"_{label}_{secrets.token_hex(4)}"
    return base[: MAX_NAME - len(suffix)] + suffix


@dataclass
class Staged:
    """A database on the server that is not (yet) the live one."""

    server: sa.URL
    database: str

    @property
    def url(self) -> str:
        return self.server.set(database=self.database).render_as_string(hide_password=False)

    def discard(self) -> None:
        drop_database(self.server, self.database)


def maintenance(url: sa.URL) -> psycopg.Connection:
    """A connection to the server's ``postgres`` database (``template1`` if that is refused)."""
    try:
        return connect(url, "postgres")
    except psycopg.OperationalError:
        return connect(url, "template1")


def create_database(server: sa.URL, name: str, like: str | None = None) -> Staged:
    with maintenance(server) as connection:
        row = None
        if like:
            row = connection.execute(
                "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
                "WHERE datname = %s",
                (like,),
            ).fetchone()
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
        if row:
            statement += sql.SQL(" ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
                *(sql.Literal(value) for value in row)
            )
        connection.execute(statement)
    return Staged(server, name)


def drop_database(server: sa.URL, name: str) -> None:
    with maintenance(server) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def restore_into(dump_path: str, staged: Staged, name: str, expected: archive.Contents) -> None:
    """Load the dump into the staged database and ask it a few simple questions."""
    env = libpq_env(staged.server, staged.database)
    try:
        _run([_tool("pg_restore"), "--list", dump_path], env, "pg_restore --list")
    except BackupFailed as failed:
        raise BackupRefused(f"Backup {name} is damaged: {failed.message}") from None
    argv = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        f"--dbname={staged.database}",
        dump_path,
    ]
    try:
        _run(argv, env, "pg_restore")
    except BackupFailed as failed:
        raise BackupRefused(f"Backup {name} does not restore: {failed.message}") from None
    try:
        with connect(staged.server, staged.database) as connection:
            found = read_contents(connection)
    except psycopg.Error as error:
        detail = (str(error).splitlines() or [type(error).__name__])[0]
        raise BackupRefused(f"Backup {name} does not restore: {detail}") from None
    expected.refuse_unless_in(found, name)


def scratch_copy(dump_path: str, name: str, expected: archive.Contents, server: sa.URL) -> Staged:
    staged = create_database(server, scratch_name(server.database or "aura", "verify"))
    try:
        restore_into(dump_path, staged, name, expected)
    except BaseException:
        staged.discard()
        raise
    return staged


def check(dump_path: str, name: str, expected: archive.Contents, server: sa.URL) -> None:
    """Restore the dump into a scratch database, count its rows, and drop it."""
    scratch_copy(dump_path, name, expected, server).discard()


def stage(dump_path: str, name: str, expected: archive.Contents, url: sa.URL, stamp: str) -> Staged:
    staged = stage_empty(url, stamp)
    try:
        restore_into(dump_path, staged, name, expected)
    except BaseException:
        staged.discard()
        raise
    return staged


def stage_empty(url: sa.URL, stamp: str) -> Staged:
    assert url.database
    return create_database(url, scratch_name(url.database, "restore"), like=url.database)


@dataclass
class Swapped:
    server: sa.URL
    live: str
    aside: str | None

    def undo(self) -> None:
        with maintenance(self.server) as connection, connection.transaction():
            staged = scratch_name(self.live, "undone")
            _rename(connection, self.live, staged)
            if self.aside:
                _rename(connection, self.aside, self.live)
        drop_database(self.server, staged)

    def finish(self) -> None:
        if self.aside:
            drop_database(self.server, self.aside)


def _rename(connection: psycopg.Connection, old: str, new: str) -> None:
    connection.execute(
        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(new))
    )


def swap(staged: Staged, url: sa.URL, stamp: str) -> Swapped:
    """Rename the live database aside and the staged one into its name, in one transaction."""
    live = url.database
    assert live
    aside_suffix = f"_before_restore_{stamp.lower()}"
    aside = live[: MAX_NAME - len(aside_suffix)] + aside_suffix
    with maintenance(url) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (live,)
        ).fetchone()
        others = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (live,),
        ).fetchone()[0]
        if others:
            raise BackupBusy(
                f"The database {live} has {others} other connection(s): stop Aura (every server "
                "and worker) first."
            )
        try:
            with connection.transaction():
                if exists:
                    _rename(connection, live, aside)
                _rename(connection, staged.database, live)
        except psycopg.errors.ObjectInUse:
            raise BackupBusy(
                f"The database {live} is in use: stop Aura (every server and worker) first."
            ) from None
    return Swapped(url, live, aside if exists else None)
