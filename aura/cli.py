"""The ``aura`` command: Flask's CLI bound to Aura's app, plus Aura's own commands.

Every command is here, and each is thin: it parses its arguments, calls a service and prints.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_migrate import upgrade
from waitress import serve

from aura.clients import tmdb
from aura.clients.errors import TMDBError
from aura.errors import AuraError, Invalid
from aura.extensions import MIGRATIONS_DIR
from aura.services import (
    accounts,
    backups,
    demo,
    health,
    jobs,
    media,
    retention,
    samples,
    scores,
    tmdb_sync,
    videos,
)


def main() -> None:
    from aura import create_app  # the package imports this module while it is being built

    cli = FlaskGroup(
        create_app=lambda: create_app(),
        help="Aura: a self-hosted movie catalog and video streaming site.",
    )
    cli.main(prog_name="aura")


def register_commands(app: Flask) -> None:
    for command in (
        demo_command,
        serve_command,
        load_demo_command,
        purge_command,
        refresh_scores_command,
        users_group,
        videos_group,
        media_group,
        sync_tmdb_command,
        backup_command,
        backups_group,
        restore_command,
    ):
        app.cli.add_command(command)


def upgrade_database() -> None:
    os.makedirs(current_app.instance_path, exist_ok=True)
    upgrade(directory=MIGRATIONS_DIR)


def echo_report(report, verbose: bool = True) -> None:
    click.echo(
        f"Demo catalog: {report.loaded} films added, {report.already_present} already present, "
        f"{len(report.skipped)} rows skipped, {len(report.corrected)} values corrected."
    )
    if verbose:
        for number, reason in report.skipped:
            click.echo(f"  skipped row {number}: {reason}")
        for number, reason in report.corrected:
            click.echo(f"  corrected row {number}: {reason}")


def scheduled_jobs() -> list[tuple[str, timedelta, Callable[[], str]]]:
    """What every serving process offers to run; each job runs once across all of them."""
    return [
        (scores.REFRESH_JOB, scores.REFRESH_EVERY, scores.refresh),
        ("purge", timedelta(days=1), lambda: retention.purge().summary()),
    ]


def _log_requests(app: Flask) -> None:
    """Request lines (JSON) and errors to standard error, where systemd's journal takes them."""
    logger = logging.getLogger("aura")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    # Its own handler writes each line; the root logger's (waitress sets one up) would write
    # every line a second time.
    logger.propagate = False
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


def waitress_serve(app: Flask, host: str, port: int, threads: int | None) -> None:
    _log_requests(app)
    threads = threads or app.config["THREADS"]
    if app.config["BACKGROUND_JOBS"]:
        jobs.Scheduler(app, scheduled_jobs(), interval=300).start()
    click.echo(f"Aura is running at http://{host}:{port}/  (Ctrl+C to stop)")
    serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="Aura",
        # The upload limit, plus room for the form's other fields.
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
        channel_timeout=120,
        connection_limit=app.config["CONNECTION_LIMIT"],
        asyncore_use_poll=True,  # select() cannot watch more than 1024 sockets
    )


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", type=click.IntRange(1, 256), help="Worker threads (AURA_THREADS, 8).")
@with_appcontext
def demo_command(host: str, port: int, threads: int | None) -> None:
    """Set up the demo site (database, films, accounts, sample videos) and serve it."""
    upgrade_database()
    demo.prepare_site(echo=click.echo, report=echo_report)
    waitress_serve(current_app._get_current_object(), host, port, threads)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", type=click.IntRange(1, 256), help="Worker threads (AURA_THREADS, 8).")
@with_appcontext
def serve_command(host: str, port: int, threads: int | None) -> None:
    """Serve Aura with waitress (run `aura db upgrade` first)."""
    problem = health.schema_problem()
    if problem is not None:
        raise click.ClickException(problem)
    waitress_serve(current_app._get_current_object(), host, port, threads)


@click.command("load-demo")
@click.option("--quiet", is_flag=True, help="Only print the summary line.")
@with_appcontext
def load_demo_command(quiet: bool) -> None:
    """Load the demo catalog and sample videos (idempotent); report skipped or corrected rows."""
    echo_report(demo.load_demo(), verbose=not quiet)
    samples.install_samples(click.echo)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete expired grants and reset links, views past AURA_VIEW_RETENTION_DAYS, abandoned
    uploads."""
    click.echo(retention.purge().summary())


@click.command("refresh-scores")
@click.option("--if-due", is_flag=True, help="Only if no process refreshed them within the hour.")
@with_appcontext
def refresh_scores_command(if_due: bool) -> None:
    """Recompute trending and top-rated scores (the serving processes also do it hourly)."""
    if if_due:
        ran = scores.refresh_if_due()
        click.echo("Scores refreshed." if ran else "Scores are fresh: nothing to do.")
        return
    click.echo(f"Scores refreshed: {scores.refresh()}.")


# -- accounts -------------------------------------------------------------------------------------

users_group = AppGroup("users", help="Manage accounts.")


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    """Ask twice at a terminal; otherwise read one line from standard input (for scripts)."""
    if _stdin_is_terminal():
        return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("No password on standard input.")
    return line.rstrip("\r\n")


@users_group.command("create")
@click.argument("email")
@click.option("--supervisor", is_flag=True, help="Give the account the supervisor role.")
@click.option("--name", "display_name", help="Display name (default: the email's local part).")
def create_user_command(email: str, supervisor: bool, display_name: str | None) -> None:
    """Create an account; the password is prompted for (or read from standard input)."""
    password = _read_password()
    try:
        user = accounts.create_user(
            email, password, display_name=display_name, supervisor=supervisor
        )
    except Invalid as invalid:
        field, message = next(iter(invalid.fields.items()), ("", invalid.message))
        prefix = f"{field.replace('_', ' ')}: " if field else ""
        raise click.ClickException(f"{prefix}{message}") from None
    click.echo(f"Created {user.role} account {user.email}.")


# -- videos ---------------------------------------------------------------------------------------

videos_group = AppGroup("videos", help="Look after stored videos.")


@videos_group.command("durations")
def fill_durations_command() -> None:
    """Read the duration of every stored video that has none yet (ffprobe when installed)."""
    click.echo(videos.fill_durations().summary())


media_group = AppGroup("media", help="Where media is stored.")


@media_group.command("migrate")
@click.option("--to", "to", required=True, type=click.Choice(["s3", "local"]))
@click.option("--verbose", is_flag=True, help="Name each file as it is done.")
def migrate_media_command(to: str, verbose: bool) -> None:
    """Copy the media every row names into the other storage, with sha256 checks.

    Resumable: files already there with the same sha256 are skipped. Nothing is deleted from
    the source; set AURA_MEDIA_STORAGE afterwards to serve from the target.
    """
    try:
        report = media.migrate(to, echo=click.echo if verbose else None)
    except Invalid as invalid:
        raise click.ClickException(invalid.message) from None
    for line in report.refused:
        click.echo(f"Refused {line}", err=True)
    for name in report.missing:
        click.echo(f"Missing from {report.source}: {name}", err=True)
    click.echo(report.summary())
    if not report.complete:
        raise SystemExit(1)


class AsciiIntRange(click.IntRange):
    """A whole number in a range, in ASCII digits only (``int()`` also reads Arabic-Indic)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not (value.isascii() and value.lstrip("+-").isdigit()):
            self.fail(f"{value!r} is not a whole number.", param, ctx)
        return super().convert(value, param, ctx)


class ProgressBars:
    """A progress callback for services: one click progress bar per stage."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            self.bar = click.progressbar(length=max(total, 1), label=stage.ljust(8))
            self.bar.__enter__()
        self.bar.length = max(total, 1)
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("sync-tmdb")
@click.option(
    "--pages",
    default=1,
    show_default=True,
    type=AsciiIntRange(1, 500),
    help="Pages (20 films each) of every list: trending, popular, top rated, upcoming.",
)
@click.option(
    "--changes",
    is_flag=True,
    help="Only refresh films Aura has that TMDB changed since the last sync (14 days at most).",
)
@click.option(
    "--trailers/--no-trailers",
    default=True,
    show_default=True,
    help="Check the trailers of synced films whose last check is older than AURA_TRAILER_TTL_DAYS.",
)
@with_appcontext
def sync_tmdb_command(pages: int, changes: bool, trailers: bool) -> None:
    """Pull genres, rows and film details from TMDB into the catalog."""

    context = click.get_current_context()
    if not tmdb.is_configured():
        click.echo(
            "TMDB is not configured: set AURA_TMDB_API_KEY (a v3 key) or AURA_TMDB_READ_TOKEN "
            "(a v4 read token). Nothing was changed.",
            err=True,
        )
        context.exit(2)
    progress = ProgressBars()
    try:
        report = tmdb_sync.sync(
            pages=pages, changes=changes, trailers_too=trailers, progress=progress
        )
    except TMDBError as error:
        progress.close()
        click.echo(f"TMDB sync failed: {error.message}", err=True)
        context.exit(1)
    progress.close()
    for note in report.notes:
        click.echo(f"Note: {note}")
    click.echo(report.summary_line())


# -- backups -------------------------------------------------------------------------------------


def _on_terminal() -> bool:
    return sys.stdout.isatty()


class _ProgressBars:
    """A ``click.progressbar`` per phase of a backup service call, drawn only on a terminal."""

    LABELS = {
        "media": "Media   ",
        "database": "Database",
        "verify": "Checking",
    }

    def __init__(self) -> None:
        self.enabled = _on_terminal()
        self.bar = None
        self.key: tuple[str, int] | None = None
        self.shown = 0

    def __call__(self, progress) -> None:
        if not self.enabled or progress.bytes_total <= 0:
            return
        key = (progress.phase, progress.bytes_total)
        if key != self.key:
            self.close()
            self.key, self.shown = key, 0
            label = self.LABELS.get(progress.phase, progress.phase.title())
            self.bar = click.progressbar(length=progress.bytes_total, label=label)
            self.bar.__enter__()
        self.bar.update(progress.bytes_done - self.shown)
        self.shown = progress.bytes_done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> _ProgressBars:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def size_text(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def age_text(age: timedelta | None) -> str:
    if age is None:
        return "?"
    minutes = max(0, int(age.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else "just now"


def when_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _verify_line(report) -> str:
    if not report.ok:
        raise click.ClickException(f"Verification failed: {report.reason}")
    return (
        f"Backup {report.name} verified: {report.files} files, {size_text(report.bytes)}, "
        "every sha256 matches and its database restores cleanly."
    )


@click.command("backup")
@click.argument("dest", required=False, type=click.Path(file_okay=False))
@click.option(
    "--verify",
    "verify_path",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PATH]",
    help="With PATH: check that backup and make none. Alone: check the backup just made.",
)
@click.option(
    "--keep-daily",
    type=click.IntRange(min=0),
    metavar="N",
    help="Afterwards keep only the newest backup of each of the last N days (and --keep-weekly).",
)
@click.option(
    "--keep-weekly",
    type=click.IntRange(min=0),
    metavar="M",
    help="... and the newest of each of the last M ISO weeks.",
)
@with_appcontext
def backup_command(
    dest: str | None, verify_path: str | None, keep_daily: int | None, keep_weekly: int | None
) -> None:
    """Back up the database and media folder into DEST (default AURA_BACKUP_DIR)."""

    try:
        if verify_path:
            if dest or keep_daily is not None or keep_weekly is not None:
                raise click.UsageError("--verify PATH checks a backup: give no DEST or --keep-*.")
            with _ProgressBars() as bars:
                report = backups.verify(verify_path, progress=bars)
            click.echo(_verify_line(report))
            return
        with _ProgressBars() as bars:
            result = backups.create(
                dest, keep_daily=keep_daily, keep_weekly=keep_weekly, progress=bars
            )
            notes = f"; removed {len(result.removed)} older" if result.removed else ""
            if verify_path == "":
                report = backups.verify(result.path, progress=bars)
                if not report.ok:
                    raise click.ClickException(f"Verification failed: {report.reason}")
                notes += "; verified"
        click.echo(
            f"Backup {result.name} written to {os.path.dirname(result.path)}: {result.files} "
            f"files, {size_text(result.bytes)} ({size_text(result.bytes_written)} copied, "
            f"{result.media_files_linked} media files linked from earlier backups){notes}."
        )
    except AuraError as error:
        raise click.ClickException(error.message) from None


backups_group = AppGroup("backups", help="Look after backups.")


@backups_group.command("list")
@click.argument("dest", required=False, type=click.Path(file_okay=False))
def list_backups_command(dest: str | None) -> None:
    """List the backups in DEST (default AURA_BACKUP_DIR), newest first."""

    dest = os.path.abspath(dest or current_app.config["BACKUP_DIR"])
    found = backups.list_backups(dest)
    if not found:
        click.echo(f"No backups in {dest}.")
        return
    width = max(len(info.name) for info in found)
    click.echo(f"{'NAME':<{width}}  {'AGE':>8}  {'SIZE':>10}  {'DATABASE':<10}  VERIFIED")
    for info in found:
        if not info.complete:
            click.echo(f"{info.name:<{width}}  {age_text(info.age()):>8}  {info.problem}")
            continue
        if info.verified:
            verified = f"yes, {when_text(info.verified_at)}"
        elif info.verified is False:
            verified = f"FAILED: {info.verify_reason}"
        else:
            verified = "no"
        click.echo(
            f"{info.name:<{width}}  {age_text(info.age()):>8}  {size_text(info.size):>10}  "
            f"{info.database_kind:<10}  {verified}"
        )


@click.command("restore")
@click.argument("src", type=click.Path())
@click.option("--yes", is_flag=True, help="Do not ask before replacing the site's data.")
@click.option("--convert", is_flag=True, help="Copy a backup of the other database kind across.")
@with_appcontext
def restore_command(src: str, yes: bool, convert: bool) -> None:
    """Check the backup SRC, then replace the database and media folder with it.

    Stop Aura's servers and workers first: the restore refuses a database still in use.
    """

    try:
        manifest = backups.inspect(src)
        if not yes:
            click.confirm(
                f"Replace this site's database and media with backup {manifest.name} "
                f"(made {when_text(manifest.created_at)})?",
                abort=True,
            )
        with _ProgressBars() as bars:
            result = backups.restore(src, convert=convert, progress=bars)
    except AuraError as error:
        raise click.ClickException(error.message) from None
    notes = ""
    if result.converted:
        notes += f"; rows copied across from {result.database_kind}"
    if result.migrated_from != result.migrated_to:
        notes += (
            f"; migrated from {', '.join(result.migrated_from) or 'none'} "
            f"to {', '.join(result.migrated_to)}"
        )
    click.echo(
        f"Restored backup {result.name} (made {when_text(result.created_at)}): database and "
        f"{result.media_files} media files ({size_text(result.media_bytes)}){notes}."
    )
