"""Backups: consistent while the site writes, incremental media, verification, retention,
and restores that refuse a bad backup without touching the live site."""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from importlib import metadata

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from aura import MIGRATIONS_DIR
from aura.errors import Invalid
from aura.extensions import db
from aura.models import AuditEvent, Movie, Rating, Video, View
from aura.services import backups
from aura.services.backups import archive, kinds, retention
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_movie, make_user
from tests.fixtures.backups import (
    FakeBackups,
    Writer,
    flip_byte,
    media_hashes,
    read_manifest,
    seed,
    server_url,
    sqlite_integrity,
    write_manifest,
)

NAME = re.compile(r"aura-\d{8}T\d{6}Z(-\d+)?")
DUMP = {"sqlite": "aura.sqlite3", "postgresql": "aura.pgdump"}


def ids(model) -> set:
    return set(db.session.scalars(sa.select(model.id)))


def without_audit(state: dict) -> dict:
    """A site's state but its audit trail (the backup and the restore add their events)."""
    return {**state, "rows": {k: v for k, v in state["rows"].items() if k != "audit_event"}}


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


# -- a consistent backup while the site writes ------------------------------------------------


def test_backup_taken_while_ratings_and_views_are_written_restores_what_was_committed(site):
    user = make_user()
    seed(site, user)
    writer = Writer(site.app, user.id)
    writer.start()
    writer.wait_for_more()
    ratings_before, views_before = writer.committed()
    at_snapshot: dict[str, tuple[set[int], set[int]]] = {}

    def progress(report: backups.Progress) -> None:
        if report.phase == "database" and "committed" not in at_snapshot:  # just before the copy
            writer.wait_for_more()  # writes carry on while the backup is under way
            at_snapshot["committed"] = writer.committed()

    try:
        result = backups.create(site.backups, progress=progress)
        ratings_done, _views = writer.committed()
        writer.wait_for_more()  # and after it: these must not come back with the restore
        ratings_after, _views = writer.committed()
    finally:
        writer.stop()
    later_ratings = ratings_after - ratings_done

    restored = backups.restore(result.path)

    assert restored.name == result.name
    ratings, views = ids(Rating), ids(View)
    assert ratings_before <= ratings and views_before <= views
    assert at_snapshot["committed"][0] <= ratings and at_snapshot["committed"][1] <= views
    assert later_ratings and not (later_ratings & ratings)
    if site.kind == "sqlite":
        db.session.remove()
        db.engine.dispose()
        assert sqlite_integrity(site.database) == ["ok"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Movie)) >= len(ratings)


def test_the_manifest_lists_every_stored_file_and_leaves_upload_temp_files_out(site):
    user = make_user()
    seed(site, user)
    result = backups.create(site.backups)

    assert NAME.fullmatch(result.name)
    assert sorted(os.listdir(site.backups)) == [archive.LOCK, result.name]
    manifest = read_manifest(result.path)
    assert manifest["aura_version"] == metadata.version("aura")
    assert manifest["database"]["kind"] == site.kind
    assert manifest["database"]["migration_heads"] == list(kinds.code_heads())
    tables = manifest["database"]["tables"]
    assert (tables["movie"], tables["video"], tables["rating"], tables["view"]) == (3, 2, 1, 3)
    assert tables["alembic_version"] == 1 and set(tables) >= {"user", "audit_event"}
    created = datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00"))
    assert created.tzinfo is not None and abs(created - datetime.now(UTC)) < timedelta(days=1)
    database, *media = manifest["files"]
    assert database["path"] == manifest["database"]["file"] == f"database/{DUMP[site.kind]}"
    source = media_hashes(site.media)
    assert ".upload-half-arrived.part" in source
    source.pop(".upload-half-arrived.part")
    assert {entry["path"]: entry["sha256"] for entry in media} == {
        f"media/{path}": sha256 for path, sha256 in source.items()
    }
    assert any(entry["path"].startswith("media/captions/") for entry in media)
    for entry in manifest["files"]:
        assert os.path.getsize(os.path.join(result.path, entry["path"])) == entry["size"]
    assert audit_actions()[-2:] == ["backup.start", "backup.done"]


def test_restore_brings_back_the_rows_and_media_byte_for_byte(site):
    user = make_user()
    made = seed(site, user)
    result = backups.create(site.backups)
    os.unlink(os.path.join(site.media, ".upload-half-arrived.part"))
    backed_up = site.state()

    gone = made["videos"][0]
    os.unlink(os.path.join(site.media, gone.storage_key))
    db.session.delete(db.session.get(Video, gone.id))
    make_movie(title="Added after the backup")
    with open(os.path.join(site.media, made["videos"][1].storage_key), "r+b") as fh:
        fh.write(b"scribbled")
    with open(os.path.join(site.media, "stray"), "wb") as fh:
        fh.write(b"not in the backup")
    db.session.commit()
    assert site.state() != backed_up

    restored = backups.restore(result.path)

    assert without_audit(site.state()) == without_audit(backed_up)
    assert restored.media_files == 4 and restored.converted is False
    assert site.leftovers() == []
    # The trail as it was in the copy (the backup had begun), then the restore itself.
    assert audit_actions() == ["backup.start", "backup.restore"]


# -- incremental media -------------------------------------------------------------------------


def test_unchanged_media_is_hard_linked_into_the_next_backup(site):
    user = make_user()
    made = seed(site, user)
    first = backups.create(site.backups)
    new = store_bytes(b"\x1a\x45\xdf\xa3 a third reel" * 300)

    second = backups.create(site.backups)

    assert first.media_files_linked == 0 and first.media_files_copied == 4
    assert second.media_files_linked == 4 and second.media_files_copied == 1
    assert second.media_bytes_copied == len(b"\x1a\x45\xdf\xa3 a third reel" * 300)
    assert second.bytes_written == second.database_bytes + second.media_bytes_copied
    for video in made["videos"]:
        old = os.stat(os.path.join(first.path, "media", video.storage_key))
        now = os.stat(os.path.join(second.path, "media", video.storage_key))
        assert (old.st_ino, old.st_nlink) == (now.st_ino, 2)
    assert os.stat(os.path.join(second.path, "media", new.storage_key)).st_nlink == 1
    assert backups.verify(second.path).ok


def store_bytes(content: bytes) -> Video:
    from tests.factories import store_video

    return store_video(content, title="Third")


def test_media_is_copied_when_hard_links_fail_across_filesystems(site, monkeypatch):
    seed(site, make_user())
    first = backups.create(site.backups)

    def no_link(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(archive.os, "link", no_link)
    second = backups.create(site.backups)

    assert second.media_files_linked == 0 and second.media_files_copied == 4
    assert second.media_bytes_copied == first.media_bytes_copied
    for entry in read_manifest(second.path)["files"][1:]:
        old = os.stat(os.path.join(first.path, entry["path"]))
        assert os.stat(os.path.join(second.path, entry["path"])).st_ino != old.st_ino
    assert backups.verify(second.path).ok


# -- never looks complete unless it is ---------------------------------------------------------


def test_an_interrupted_backup_leaves_nothing_that_looks_like_a_backup(site):
    seed(site, make_user())

    def interrupt(report: backups.Progress) -> None:
        if report.phase == "media" and report.files_done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backups.create(site.backups, progress=interrupt)

    assert os.listdir(site.backups) == [archive.LOCK]
    assert backups.list_backups(site.backups) == []
    assert backups.newest_age(site.backups) is None
    assert audit_actions()[-2:] == ["backup.start", "backup.failed"]


def test_a_backup_killed_before_its_rename_is_refused_and_cleared_by_the_next(site):
    seed(site, make_user())
    result = backups.create(site.backups)
    killed = os.path.join(site.backups, archive.INCOMPLETE + "aura-20261130T000000Z")
    shutil.copytree(result.path, killed)  # everything but the rename

    assert [info.name for info in backups.list_backups(site.backups)] == [result.name]
    report = backups.verify(killed)
    assert not report.ok and "incomplete" in report.reason
    with pytest.raises(backups.BackupRefused, match="incomplete"):
        backups.restore(killed)

    backups.create(site.backups)
    assert not os.path.exists(killed)


# -- verification ------------------------------------------------------------------------------


def test_verification_is_recorded_and_shown_in_the_list(site):
    seed(site, make_user())
    result = backups.create(site.backups)
    assert backups.list_backups(site.backups)[0].verified is None

    report = backups.verify(result.path)

    assert report.ok and report.reason is None and report.files == 5
    info = backups.list_backups(site.backups)[0]
    assert info.verified is True and info.verified_at == report.checked_at
    flip_byte(os.path.join(result.path, read_manifest(result.path)["files"][2]["path"]))
    report = backups.verify(result.path)
    assert not report.ok and "does not match its sha256" in report.reason
    info = backups.list_backups(site.backups)[0]
    assert info.verified is False and info.verify_reason == report.reason


def test_verification_of_a_changed_manifest_no_longer_counts(site):
    seed(site, make_user())
    result = backups.create(site.backups)
    assert backups.verify(result.path).ok
    manifest = read_manifest(result.path)
    manifest["aura_version"] = "edited"
    write_manifest(result.path, manifest)

    assert backups.list_backups(site.backups)[0].verified is None


def test_a_dump_of_the_other_kind_is_checked_only_where_it_can_be(site):
    seed(site, make_user())
    result = backups.create(site.backups)
    damage_foreign_kind(result.path)  # now says PostgreSQL on SQLite, or SQLite on PostgreSQL

    if site.kind == "sqlite":  # no PostgreSQL server to restore a dump into: not a verdict
        with pytest.raises(backups.BackupFailed, match="set AURA_BACKUP_SCRATCH_POSTGRES_URL"):
            backups.verify(result.path)
        assert backups.list_backups(site.backups)[0].verified is None
    else:  # a pg_dump file is no SQLite database
        report = backups.verify(result.path)
        assert not report.ok and "its database cannot be read" in report.reason


# -- refusals leave the live site untouched ----------------------------------------------------


def damage_flip_media(path):
    flip_byte(os.path.join(path, media_entry(path)["path"]))
    return "does not match its sha256"


def damage_flip_database(path):
    flip_byte(os.path.join(path, read_manifest(path)["database"]["file"]))
    return "does not match its sha256"


def damage_truncate(path):
    entry = media_entry(path)
    with open(os.path.join(path, entry["path"]), "r+b") as fh:
        fh.truncate(entry["size"] // 2)
    return "(truncated)"


def damage_database_rewritten(path):
    """A database file that does not restore, with a manifest rewritten to match it."""
    manifest = read_manifest(path)
    target = os.path.join(path, manifest["database"]["file"])
    with open(target, "r+b") as fh:
        fh.seek(100)
        fh.write(bytes(range(256)) * 16)
    sha, size = archive.hash_file(target)
    manifest["files"][0].update(sha256=sha, size=size)
    write_manifest(path, manifest)
    if manifest["database"]["kind"] == "sqlite":
        return "is damaged: its database cannot be read (database disk image is malformed)"
    heads = ", ".join(kinds.code_heads())
    return f"is damaged: its database is at migration none, its manifest says {heads}"


def damage_row_count(path):
    """A manifest that counted one film more than its database copy holds."""
    manifest = read_manifest(path)
    manifest["database"]["tables"]["movie"] += 1
    write_manifest(path, manifest)
    return "is damaged: its database has 3 rows in movie, its manifest says 4."


def damage_no_manifest(path):
    os.unlink(os.path.join(path, archive.MANIFEST))
    return "incomplete: it has no manifest.json"


def damage_incomplete_name(path):
    os.rename(path, path.replace("/aura-", "/" + archive.INCOMPLETE + "aura-"))
    return "incomplete (it was never finished)"


def damage_missing_file(path):
    os.unlink(os.path.join(path, media_entry(path)["path"]))
    return "is missing"


def damage_extra_file(path):
    with open(os.path.join(path, "media", "planted"), "wb") as fh:
        fh.write(b"#!/bin/sh\n")
    return "media/planted is not in its manifest"


def damage_newer_head(path):
    return "comes from a newer Aura (its migration 9999_from_the_future is unknown here)"


def damage_foreign_kind(path):
    """Make it a backup of the other database kind (its checksums stay right)."""
    manifest = read_manifest(path)
    live = manifest["database"]["kind"]
    other = "sqlite" if live == "postgresql" else "postgresql"
    new_file = f"database/{DUMP[other]}"
    os.rename(os.path.join(path, manifest["database"]["file"]), os.path.join(path, new_file))
    manifest["database"].update(kind=other, file=new_file)
    manifest["files"][0]["path"] = new_file
    write_manifest(path, manifest)
    return f"holds a {kinds.LABELS[other]} database and this site runs {kinds.LABELS[live]}"


def media_entry(path: str) -> dict:
    return next(e for e in read_manifest(path)["files"] if e["path"].startswith("media/"))


DAMAGES = [
    damage_flip_media,
    damage_flip_database,
    damage_truncate,
    damage_database_rewritten,
    damage_row_count,
    damage_no_manifest,
    damage_incomplete_name,
    damage_missing_file,
    damage_extra_file,
    damage_newer_head,
    damage_foreign_kind,
]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__.removeprefix("damage_"))
def test_a_bad_backup_is_refused_in_one_line_and_the_site_is_untouched(site, damage):
    seed(site, make_user())
    if damage is damage_newer_head:
        set_head(site, "9999_from_the_future")
    result = backups.create(site.backups)
    if damage is damage_newer_head:
        set_head(site, kinds.code_heads()[0])
    expected = damage(result.path)
    path = result.path
    if damage is damage_incomplete_name:
        path = os.path.join(site.backups, archive.INCOMPLETE + result.name)
    before = site.state()

    with pytest.raises(backups.BackupRefused) as refused:
        backups.restore(path)

    message = refused.value.message
    assert expected in message and "\n" not in message
    assert site.state() == before
    assert site.leftovers() == []
    if damage in (damage_flip_media, damage_database_rewritten, damage_missing_file):
        assert backups.list_backups(site.backups)[0].verified is False


def set_head(site, revision: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def test_restore_refuses_while_another_connection_uses_the_database(site):
    seed(site, make_user())
    result = backups.create(site.backups)
    before = site.state()
    if site.kind == "sqlite":
        other = sqlite3.connect(site.database)
        other.execute("SELECT count(*) FROM movie").fetchone()
    else:
        other = psycopg.connect(server_url(site.database))
    try:
        with pytest.raises(backups.BackupBusy, match="stop Aura"):
            backups.restore(result.path)
    finally:
        other.close()
    assert site.state() == before
    assert site.leftovers() == []
    assert backups.restore(result.path).name == result.name  # and once it is stopped, it runs


def test_an_older_backup_is_migrated_forward_as_it_is_restored(site):
    make_movie(title="From the first schema")
    db.session.remove()
    db.engine.dispose()
    downgrade(directory=MIGRATIONS_DIR, revision="0001")
    old = backups.create(site.backups)
    upgrade(directory=MIGRATIONS_DIR)
    db.engine.dispose()

    restored = backups.restore(old.path)

    assert restored.migrated_from == ("0001",) and restored.migrated_to == kinds.code_heads()
    assert "login_session" in sa.inspect(db.engine).get_table_names()
    assert db.session.scalar(sa.select(Movie.title)) == "From the first schema"


# -- retention ---------------------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_retention_keeps_the_newest_of_each_recent_day_and_iso_week():
    backups_made = [
        ("mon-early", at("2026-11-30T01:00")),  # ISO week 49 starts on Monday 30 November
        ("mon-late", at("2026-11-30T23:00")),
        ("sun", at("2026-11-29T12:00")),  # week 48
        ("sat", at("2026-11-28T12:00")),
        ("fri-early", at("2026-11-27T02:00")),
        ("fri-late", at("2026-11-27T03:00")),
        ("week-47", at("2026-11-18T12:00")),
        ("week-45-late", at("2026-11-06T12:00")),
        ("week-45-early", at("2026-11-02T12:00")),
    ]
    assert retention.to_keep(backups_made, keep_daily=3, keep_weekly=0) == {
        "mon-late", "sun", "sat",
    }  # fmt: skip
    assert retention.to_keep(backups_made, keep_daily=0, keep_weekly=3) == {
        "mon-late", "sun", "week-47",
    }  # fmt: skip
    assert retention.to_keep(backups_made, keep_daily=4, keep_weekly=4) == {
        "mon-late", "sun", "sat", "fri-late", "week-47", "week-45-late",
    }  # fmt: skip
    assert retention.to_keep(backups_made, keep_daily=0, keep_weekly=0) == set()


def test_pruning_deletes_what_the_policy_does_not_keep_but_never_the_new_backup(site):
    fakes = FakeBackups(site.backups)
    os.makedirs(site.backups)
    for moment in ("2026-11-27T03:00", "2026-11-28T12:00", "2026-11-29T12:00", "2030-01-01T00:00"):
        fakes.add(at(moment))
    seed(site, make_user())

    result = backups.create(site.backups, keep_daily=1, keep_weekly=0)

    # A backup dated in the future (a wrong clock) is the newest day; the new one stays anyway.
    names = [info.name for info in backups.list_backups(site.backups)]
    assert names == [fakes.made[3], result.name]
    assert set(result.removed) == set(fakes.made[:3])

    result = backups.create(site.backups, keep_daily=0, keep_weekly=0)
    assert [info.name for info in backups.list_backups(site.backups)] == [result.name]


def test_deleting_an_old_backup_keeps_the_media_it_shared(site):
    made = seed(site, make_user())
    first = backups.create(site.backups)
    second = backups.create(site.backups, keep_daily=1)

    assert second.removed == (first.name,) and not os.path.exists(first.path)
    shared = os.path.join(second.path, "media", made["videos"][0].storage_key)
    assert os.stat(shared).st_nlink == 1
    assert backups.verify(second.path).ok


def test_a_folder_named_like_a_backup_without_a_manifest_is_listed_and_left_alone(site):
    fakes = FakeBackups(site.backups)
    os.makedirs(os.path.join(site.backups, "aura-20261101T000000Z"))
    kept = fakes.add(at("2026-11-02T00:00"))

    assert backups.prune(site.backups, keep_daily=0, keep_weekly=0) == [kept]
    [info] = backups.list_backups(site.backups)
    assert info.name == "aura-20261101T000000Z" and not info.complete
    assert "no manifest.json" in info.problem


def test_list_and_newest_age_for_the_supervisor_page(site):
    fakes = FakeBackups(site.backups)
    os.makedirs(site.backups)
    older = fakes.add(at("2026-11-30T07:00"))
    newer = fakes.add(at("2026-12-01T06:30"))
    now = at("2026-12-01T07:30")

    found = backups.list_backups(site.backups)

    assert [info.name for info in found] == [newer, older]
    assert found[0].age(now) == timedelta(hours=1) and found[0].size == 4
    assert found[0].database_kind == "sqlite" and found[0].verified is None
    assert backups.newest_age(site.backups, now=now) == timedelta(hours=1)
    assert backups.newest_age(site.backups, verified=True, now=now) is None
    assert backups.newest_age(os.path.join(site.backups, "nowhere"), now=now) is None
    assert site.app.config["BACKUP_MAX_AGE_HOURS"] == 26


def test_the_newest_verified_backup_can_be_older_than_the_newest(site):
    seed(site, make_user())
    checked = backups.create(site.backups)
    assert backups.verify(checked.path).ok
    newest = backups.create(site.backups)
    now = datetime.now(UTC)

    assert backups.newest_age(site.backups, now=now) == now - newest.created_at
    assert backups.newest_age(site.backups, verified=True, now=now) == now - checked.created_at


def test_a_backup_started_from_the_supervisor_page_names_who_asked(site):
    boss = make_user(role="supervisor")
    backups.create(site.backups, actor_id=boss.id, client_ip="203.0.113.9")

    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.ip) for e in events[-2:]] == [
        ("backup.start", boss.id, "203.0.113.9"),
        ("backup.done", boss.id, "203.0.113.9"),
    ]


def test_the_backup_folder_may_not_be_inside_the_media_folder(site):
    os.makedirs(site.media)
    with pytest.raises(Invalid, match="inside the media folder"):
        backups.create(os.path.join(site.media, "backups"))
    assert os.listdir(site.media) == []


def test_a_second_backup_into_the_same_folder_is_refused_while_one_runs(site):
    os.makedirs(site.backups)
    with archive.locked(site.backups), pytest.raises(backups.BackupBusy):
        backups.create(site.backups)


# -- the other database kind -------------------------------------------------------------------

needs_both = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="converts between SQLite and PostgreSQL: runs with PostgreSQL"
)


@needs_both
def test_a_sqlite_backup_converts_into_a_postgresql_site(make_site):
    source, target = make_site("sqlite"), make_site("postgresql")
    with source.app.app_context():
        seed(source, make_user())
        result = backups.create(source.backups)
    expected = source.state()
    expected["media"].pop(".upload-half-arrived.part")

    with target.app.app_context():
        with pytest.raises(backups.BackupRefused, match="pass --convert"):
            backups.restore(result.path)
        restored = backups.restore(result.path, convert=True)
        assert restored.converted and restored.database_kind == "sqlite"
        found = target.state()
        assert without_audit(found) == without_audit(expected)
        new = make_movie(title="Seeded after the move")  # the id sequences moved past the rows
        assert new.id > max(ids(Movie) - {new.id})
        hits = db.session.scalar(
            sa.text("SELECT count(*) FROM movie WHERE search_vector @@ 'seeded'::tsquery")
        )
        assert hits == 4
    assert target.leftovers() == []


@needs_both
def test_a_postgresql_backup_converts_into_a_sqlite_site(make_site):
    source = make_site("postgresql")
    target = make_site("sqlite", BACKUP_SCRATCH_POSTGRES_URL=server_url("aura_backup"))
    with source.app.app_context():
        seed(source, make_user())
        result = backups.create(source.backups)
    expected = source.state()
    expected["media"].pop(".upload-half-arrived.part")

    with target.app.app_context():
        assert backups.verify(result.path).ok
        restored = backups.restore(result.path, convert=True)
        assert restored.converted and restored.database_kind == "postgresql"
        assert without_audit(target.state()) == without_audit(expected)
        hits = db.session.scalar(
            sa.text("SELECT count(*) FROM movie_fts WHERE movie_fts MATCH 'seeded'")
        )
        assert hits == 3
    assert target.leftovers() == []


# -- PostgreSQL credentials ----------------------------------------------------------------------


def test_pg_dump_gets_the_password_through_its_environment_never_its_arguments(
    monkeypatch, tmp_path
):
    from aura.services.backups import postgres

    url = sa.make_url(
        "postgresql+psycopg://aura:s3cret%20pass@db.example:5433/aura?sslmode=verify-full"
    )
    calls = []

    class Snapshot:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, statement, *args):
            class Result:
                def fetchone(self):
                    return ["00000003-0000001B-1"]

            return Result()

    monkeypatch.setattr(postgres, "connect", lambda url, database=None: Snapshot())
    monkeypatch.setattr(postgres, "read_contents", lambda connection: archive.Contents((), {}))
    monkeypatch.setattr(postgres, "_run", lambda argv, env, what: calls.append((argv, env)))
    target = tmp_path / "aura.pgdump"
    target.write_bytes(b"PGDMP")

    postgres.dump(url, str(target))

    [(argv, env)] = calls
    assert not any("s3cret" in arg for arg in argv)
    assert "--snapshot=00000003-0000001B-1" in argv and "--no-password" in argv
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db.example", "5433", "aura")
    assert (env["PGPASSWORD"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "s3cret pass",
        "aura",
        "verify-full",
    )
