"""The ``aura`` command: Flask's CLI bound to Aura's app, plus Aura's own commands."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def main() -> None:
    from aura import create_app

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
        sync_tmdb_command,
    ):
        app.cli.add_command(command)
    from aura.blueprints.auth.commands import users_group

    app.cli.add_command(users_group)


def upgrade_database() -> None:
    from flask_migrate import upgrade

    from aura import MIGRATIONS_DIR

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


def waitress_serve(app: Flask, host: str, port: int, threads: int) -> None:
    from waitress import serve

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
    from aura.services import demo

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
    from aura.services import demo

    echo_report(demo.load_demo(), verbose=not quiet)
    from aura.services import samples

    samples.install_samples(click.echo)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete expired access grants, views past AURA_VIEW_RETENTION_DAYS, abandoned uploads."""
    from aura.services import retention

    report = retention.purge()
    click.echo(
        f"Purged {report.grants} expired access grants, {report.views} old views and "
        f"{report.upload_files} abandoned upload files."
    )


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
