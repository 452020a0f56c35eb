"""The `aura` command: load-demo, and `aura demo` started for real as the README says."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from aura.services import demo
from tests.factories import store_video


def test_load_demo_reports_skipped_and_corrected_rows_and_is_idempotent(runner, db):
    first = runner.invoke(args=["load-demo"])
    assert first.exit_code == 0, first.output
    assert "3200 films added, 0 already present, 1 rows skipped" in first.output
    assert "skipped row 3054: no usable title (None)" in first.output
    assert "corrected row 401: Gone with the Wind: release year 2039 read as 1939" in first.output
    second = runner.invoke(args=["load-demo", "--quiet"])
    assert "0 films added, 3200 already present" in second.output
    assert "skipped row" not in second.output


def test_videos_durations_fills_the_missing_ones(runner, db, media_dir):
    old = store_video(title="Stored before durations were read")
    broken = store_video(b"not a video at all", title="Broken")
    result = runner.invoke(args=["videos", "durations"])
    assert result.exit_code == 0, result.output
    assert "Durations: 1 read, 1 unreadable" in result.output
    db.session.refresh(old)
    db.session.refresh(broken)
    assert old.duration_seconds == 30.0 and broken.duration_seconds is None
    again = runner.invoke(args=["videos", "durations"])
    assert "Durations: 0 read, 1 unreadable" in again.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"aura demo exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def start_demo(instance, port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURA_")}
    env["AURA_INSTANCE_PATH"] = str(instance)
    aura = os.path.join(os.path.dirname(sys.executable), "aura")
    return subprocess.Popen(
        [aura, "demo", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(process) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.mark.skipif(
    not os.path.exists(os.path.join(os.path.dirname(sys.executable), "aura")),
    reason="the aura console script is not installed (pip install -e .)",
)
def test_aura_demo_serves_the_demo_site_and_restarts_on_its_data(tmp_path):
    port = free_port()
    process = start_demo(tmp_path, port)
    try:
        assert b'"status":"ok"' in wait_for(f"http://127.0.0.1:{port}/healthz", process)
        home = wait_for(f"http://127.0.0.1:{port}/", process).decode()
        assert "The Shawshank Redemption" in home and "Popular" in home
    finally:
        output = stop(process)
    assert "films added" in output and f"http://127.0.0.1:{port}/" in output
    assert (tmp_path / "aura.sqlite3").exists()

    process = start_demo(tmp_path, port)  # a second run reuses the database
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        output = stop(process)
    assert "Demo catalog already loaded." in output


def test_prepare_site_loads_the_catalog_once(db):
    lines = []
    demo.prepare_site(echo=lines.append, report=lambda report, verbose: lines.append(report.loaded))
    demo.prepare_site(echo=lines.append, report=lambda report, verbose: lines.append(report.loaded))
    assert lines[0] == 3200 and "Demo catalog already loaded." in lines
