"""The ``aura`` command: Flask's CLI bound to Aura's app, plus Aura's own commands.

Every command is here, and each is thin: it parses its arguments, calls a service and prints.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_migrate import upgrade
from waitress import serve

from aura.errors import Invalid
from aura.extensions import MIGRATIONS_DIR
from aura.services import accounts, demo, jobs, retention, samples, scores


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
        sync_tmdb_command,
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


def waitress_serve(app: Flask, host: str, port: int, threads: int) -> None:
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
    )


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@with_appcontext
def demo_command(host: str, port: int, threads: int) -> None:
    """Set up the demo site (database, films, accounts, sample videos) and serve it."""
    upgrade_database()
    demo.prepare_site(echo=click.echo, report=echo_report)
    waitress_serve(current_app._get_current_object(), host, port, threads)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve Aura with waitress (run `aura db upgrade` first)."""
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
    from aura.clients import tmdb
    from aura.clients.errors import TMDBError
    from aura.services import tmdb_sync

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
