"""``aura users``: accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

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
    from aura.services import accounts

    password = _read_password()
    try:
        user = accounts.create_user(
            email, password, display_name=display_name, supervisor=supervisor
        )
    except accounts.FieldInvalid as invalid:
        field = invalid.field.replace("_", " ")
        raise click.ClickException(f"{field}: {invalid.message}") from None
    click.echo(f"Created {user.role} account {user.email}.")
