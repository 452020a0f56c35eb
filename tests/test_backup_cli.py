"""`aura backup`, `aura backups list` and `aura restore`: exit codes and one-line answers."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from aura import cli
from aura.extensions import db
from aura.models import Movie
from aura.services import backups
from aura.services.backups import archive
from tests.factories import make_movie, make_user
from tests.fixtures.backups import FakeBackups, flip_byte, read_manifest, seed


@pytest.fixture
def run(site):
    runner = site.app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke


def one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def only_backup(dest: str) -> str:
    [name] = [n for n in os.listdir(dest) if n.startswith("aura-")]
    return os.path.join(dest, name)


def test_backup_writes_a_backup_and_says_so_in_one_line(site, run):
    seed(site, make_user())

    result = run("backup", site.backups)

    assert result.exit_code == 0, result.output
    path = only_backup(site.backups)
    line = one_line(result)
    assert re.fullmatch(
        rf"Backup {os.path.basename(path)} written to {re.escape(site.backups)}: 5 files, "
        r"[\d.]+ KB \([\d.]+ KB copied, 0 media files linked from earlier backups\)\.",
        line,
    )
    assert "4 media files linked" in one_line(run("backup", site.backups))


def test_backup_goes_to_aura_backup_dir_by_default(site, run):
    result = run("backup")
    assert result.exit_code == 0, result.output
    assert only_backup(site.app.config["BACKUP_DIR"])


def test_backup_with_verify_checks_the_backup_just_made(site, run):
    seed(site, make_user())

    result = run("backup", site.backups, "--verify")

    assert result.exit_code == 0, result.output
    assert one_line(result).endswith(" media files linked from earlier backups); verified.")
    [info] = backups.list_backups(site.backups)
    assert info.verified is True


def test_verify_path_passes_a_good_backup_and_fails_a_damaged_one(site, run):
    seed(site, make_user())
    run("backup", site.backups)
    path = only_backup(site.backups)

    good = run("backup", "--verify", path)
    assert good.exit_code == 0 and one_line(good).startswith(
        f"Backup {os.path.basename(path)} verified: 5 files"
    )

    flip_byte(os.path.join(path, read_manifest(path)["files"][1]["path"]))
    bad = run("backup", "--verify", path)
    assert bad.exit_code == 1
    assert re.fullmatch(
        r"Error: Verification failed: Backup aura-\S+ is damaged: media/\S+ does not match its "
        r"sha256\.",
        one_line(bad),
    )
    assert len(os.listdir(site.backups)) == 2  # no new backup was made


def test_verify_path_with_a_destination_is_a_usage_error(site, run):
    result = run("backup", site.backups, "--verify", "/somewhere/aura-20261201T000000Z")
    assert result.exit_code == 2
    assert "--verify PATH checks a backup" in result.output


def test_backups_list_shows_age_size_kind_and_verification(site, run):
    fakes = FakeBackups(site.backups)
    os.makedirs(site.backups)
    older = fakes.add(datetime(2026, 11, 28, 7, 0, tzinfo=UTC))
    seed(site, make_user())
    run("backup", site.backups, "--verify")
    newest = max(n for n in os.listdir(site.backups) if n.startswith("aura-"))
    os.makedirs(os.path.join(site.backups, "aura-20261101T000000Z"))

    result = run("backups", "list", site.backups)

    assert result.exit_code == 0, result.output
    header, first, second, third = result.output.strip().splitlines()
    assert header.split() == ["NAME", "AGE", "SIZE", "DATABASE", "VERIFIED"]
    assert first.startswith(newest) and f" {site.kind} " in first and "yes, 20" in first
    assert second.startswith(older) and "4 bytes" in second and second.endswith("  no")
    assert third.startswith("aura-20261101T000000Z") and "has no manifest.json" in third


def test_backups_list_of_an_empty_folder(site, run):
    result = run("backups", "list", os.path.join(site.backups, "none"))
    assert result.exit_code == 0
    assert one_line(result) == f"No backups in {os.path.join(site.backups, 'none')}."


def test_keep_options_prune_and_report_what_went(site, run):
    fakes = FakeBackups(site.backups)
    os.makedirs(site.backups)
    for day in (20, 21, 22):
        fakes.add(datetime(2026, 11, day, 3, 0, tzinfo=UTC))

    result = run("backup", site.backups, "--keep-daily", "2", "--keep-weekly", "0")

    assert result.exit_code == 0, result.output
    assert one_line(result).endswith("; removed 2 older.")
    assert sorted(n for n in os.listdir(site.backups) if n.startswith("aura-"))[0] == fakes.made[2]


def test_restore_with_yes_replaces_the_data_and_says_so(site, run):
    seed(site, make_user())
    run("backup", site.backups)
    make_movie(title="Made after the backup")

    result = run("restore", only_backup(site.backups), "--yes")

    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"Restored backup aura-\S+ \(made \d{4}-\d\d-\d\d \d\d:\d\d UTC\): database and 4 media "
        r"files \([\d.]+ KB\)\.",
        one_line(result),
    )
    db.session.remove()
    assert db.session.scalar(sa.select(Movie).where(Movie.title == "Made after the backup")) is None


def test_restore_asks_first_and_does_nothing_when_told_no(site, run):
    seed(site, make_user())
    run("backup", site.backups)
    before = site.state()

    result = run("restore", only_backup(site.backups), input="n\n")

    assert result.exit_code == 1
    assert "Replace this site's database and media with backup aura-" in result.output
    assert result.output.strip().endswith("Aborted!")
    assert site.state() == before


def test_restore_refuses_a_damaged_backup_in_one_line(site, run):
    seed(site, make_user())
    run("backup", site.backups)
    path = only_backup(site.backups)
    flip_byte(os.path.join(path, read_manifest(path)["files"][0]["path"]))
    before = site.state()

    result = run("restore", path, "--yes")

    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: Backup aura-\S+ is damaged: database/aura\.\w+ does not match its sha256\.",
        one_line(result),
    )
    assert site.state() == before


def test_restore_of_nothing_and_of_an_unfinished_backup(site, run):
    missing = run("restore", os.path.join(site.backups, "aura-20261201T000000Z"), "--yes")
    assert missing.exit_code == 1
    assert one_line(missing).startswith("Error: There is no backup at ")

    os.makedirs(os.path.join(site.backups, ".incomplete-aura-20261201T000000Z"))
    unfinished = run("restore", os.path.join(site.backups, ".incomplete-aura-20261201T000000Z"))
    assert unfinished.exit_code == 1
    assert one_line(unfinished) == (
        "Error: Backup .incomplete-aura-20261201T000000Z is incomplete (it was never finished)."
    )


def test_a_backup_while_another_runs_exits_1(site, run):
    os.makedirs(site.backups)
    with archive.locked(site.backups):
        result = run("backup", site.backups)
    assert result.exit_code == 1
    assert one_line(result) == f"Error: Another backup is running in {site.backups}."


def test_progress_bars_are_drawn_on_a_terminal_only(site, run, monkeypatch):
    seed(site, make_user())
    quiet = run("backup", site.backups)
    assert "Media" not in quiet.output

    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    shown = run("backup", site.backups)

    assert shown.exit_code == 0, shown.output
    assert "Media" in shown.output and "Database" in shown.output
    assert shown.output.strip().splitlines()[-1].startswith("Backup aura-")
