"""`aura users create` and the demo accounts `aura demo` makes."""

import re

import sqlalchemy as sa

from aura import cli as commands
from aura.models import User
from aura.services import accounts, demo
from tests.factories import PASSWORD


def users(db):
    return list(db.session.scalars(sa.select(User).order_by(User.id)))


def test_create_reads_the_password_from_standard_input(runner, db):
    result = runner.invoke(
        args=["users", "create", "Boss@Example.com", "--supervisor", "--name", "The Boss"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created supervisor account boss@example.com." in result.output
    assert PASSWORD not in result.output
    (user,) = users(db)
    assert (user.email, user.role, user.display_name) == (
        "boss@example.com",
        "supervisor",
        "The Boss",
    )
    assert accounts.authenticate("boss@example.com", PASSWORD).id == user.id


def test_create_prompts_twice_at_a_terminal(runner, db, monkeypatch):
    monkeypatch.setattr(commands, "_stdin_is_terminal", lambda: True)
    result = runner.invoke(
        args=["users", "create", "viewer@example.com"],
        input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Password:") == 2 and "do not match" in result.output
    assert users(db)[0].role == "viewer"


def test_create_refuses_weak_passwords_and_duplicates(runner, db):
    weak = runner.invoke(args=["users", "create", "a@example.com"], input="short\n")
    assert weak.exit_code == 1 and "at least 12 characters" in weak.output
    empty = runner.invoke(args=["users", "create", "a@example.com"], input="")
    assert empty.exit_code == 1 and "No password" in empty.output
    assert users(db) == []
    runner.invoke(args=["users", "create", "a@example.com"], input=PASSWORD + "\n")
    again = runner.invoke(args=["users", "create", "A@EXAMPLE.COM"], input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output
    assert len(users(db)) == 1


def test_prepare_site_creates_demo_accounts_and_shows_passwords_once(db, monkeypatch):
    monkeypatch.setattr(demo, "load_demo", lambda: None)
    lines = []
    demo.prepare_site(echo=lines.append, report=lambda report, verbose: None)
    shown = dict(re.findall(r"Demo \w+: (\S+)  password: (\S+)", "\n".join(lines)))
    assert set(shown) == {"viewer@aura.local", "supervisor@aura.local"}
    assert accounts.authenticate(
        "supervisor@aura.local", shown["supervisor@aura.local"]
    ).is_supervisor
    lines.clear()
    demo.prepare_site(echo=lines.append, report=lambda report, verbose: None)
    assert not any("password:" in line for line in lines)
    assert any("Demo accounts already exist" in line for line in lines)
