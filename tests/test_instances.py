"""Two `aura serve` processes as one site: on one PostgreSQL and one Redis, with one media
folder and one secret key, behind one nginx upstream; each also reached on its own port. A
second pair keeps its media in one S3 bucket (the test S3 server) instead of the folder.

Whatever one process does, the other sees at once: sessions, signing out everywhere and
switched-off accounts, throttles and lockouts, moderation, access grants, uploads, and the
scheduled score refresh and the two-factor replay guard run once across both.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator

import pyotp
import pytest
import redis
import sqlalchemy as sa

from aura.models import JobRun, Video
from aura.services import catalog, scores
from tests.conftest import TEST_DATABASE_URL, need_redis
from tests.factories import (
    VIDEO_PASSWORD,
    csrf_from,
    make_movie,
    make_supervisor,
    make_user,
    sample_bytes,
    store_video,
)
from tests.fixtures.s3 import REGION, Bucket, s3_client
from tests.servers import AuraProcess, NginxUpstream, browser, post_form, sign_in


def _clear_server_cache(redis_url: str) -> None:
    """The servers' shared cache (prefix ``aura:``) in the test Redis: a test's rows must not
    meet an earlier test's under the same catalog version (versions start again at every
    wipe here, never in a real site)."""
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter("aura:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


class Site:
    def __init__(self, a: AuraProcess, b: AuraProcess, nginx: NginxUpstream) -> None:
        self.a, self.b, self.nginx = a, b, nginx

    def errors(self) -> str:
        return self.a.errors() + self.b.errors()


def _shared_redis() -> str:
    redis_url = need_redis()
    if not TEST_DATABASE_URL:
        pytest.skip("several processes share one database: runs with PostgreSQL")
    return redis_url


def _start_pair(app, root, **shared: str) -> tuple[AuraProcess, AuraProcess]:
    """Two `aura serve` processes on the suite's database with the same settings, started."""
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    a = AuraProcess(root / "a", database, **shared)
    b = AuraProcess(root / "b", database, **shared)
    a.start()
    try:
        b.start()
    except BaseException:
        a.stop()
        raise
    return a, b


@pytest.fixture(scope="module")
def site(app, tmp_path_factory) -> Iterator[Site]:
    redis_url = _shared_redis()
    _clear_server_cache(redis_url)
    root = tmp_path_factory.mktemp("instances")
    media = root / "media"
    media.mkdir()
    a, b = _start_pair(
        app, root, AURA_REDIS_URL=redis_url, AURA_MEDIA_DIR=str(media), AURA_TRUSTED_PROXY_HOPS="1"
    )
    try:
        nginx = NginxUpstream(root / "nginx", [a.port, b.port])
    except BaseException:
        a.stop()
        b.stop()
        raise
    yield Site(a, b, nginx)
    nginx.stop()
    a.stop()
    b.stop()
    _clear_server_cache(redis_url)
    assert "Traceback" not in a.errors() + b.errors(), a.errors() + b.errors()


@pytest.fixture(autouse=True)
def _fresh_server_cache(site) -> Iterator[None]:
    yield
    _clear_server_cache(need_redis())


@pytest.fixture
def media_in(site, app, monkeypatch):
    """Factories store videos in the servers' shared media folder."""
    folder = site.a.env["AURA_MEDIA_DIR"]
    monkeypatch.setitem(app.config, "MEDIA_DIR", folder)
    return folder


def test_both_processes_answer_behind_one_upstream(site, db):
    film = make_movie("Round Robin", popular_score=5)
    visitor = browser()
    pages = [visitor.get(f"{site.nginx.url}/movies/{film.id}", timeout=30) for _ in range(4)]
    assert [page.status_code for page in pages] == [200] * 4
    assert all("Round Robin" in page.text for page in pages)
    for process in (site.a, site.b):
        ready = visitor.get(f"{process.url}/readyz", timeout=30)
        assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_a_session_made_on_one_is_valid_on_the_other(site, db):
    user = make_user()
    visitor = browser()
    assert sign_in(visitor, site.nginx.url, user.email).status_code == 303
    for process in (site.a, site.b):
        library = visitor.get(f"{process.url}/library", allow_redirects=False, timeout=30)
        assert library.status_code == 200, library.text
        assert user.display_name in library.text


def test_signing_out_everywhere_on_one_ends_the_session_on_the_other(site, db):
    user = make_user()
    laptop, phone = browser(), browser()
    assert sign_in(laptop, site.a.url, user.email).status_code == 303
    assert sign_in(phone, site.b.url, user.email).status_code == 303
    done = post_form(
        laptop, site.a.url, "/auth/account", "/auth/account", action="sign-out-everywhere"
    )
    assert done.status_code == 303
    on_b = phone.get(f"{site.b.url}/library", allow_redirects=False, timeout=30)
    assert on_b.status_code == 303 and "/auth/login" in on_b.headers["Location"]
    # The browser that asked stays signed in, on either process.
    assert laptop.get(f"{site.b.url}/library", allow_redirects=False).status_code == 200


def test_switching_an_account_off_on_one_signs_it_out_on_the_other(site, db):
    boss, user = make_supervisor(), make_user()
    supervisor, viewer = browser(), browser()
    assert sign_in(supervisor, site.a.url, boss.email).status_code == 303
    assert sign_in(viewer, site.b.url, user.email).status_code == 303
    off = post_form(
        supervisor, site.a.url, "/supervisor/users", f"/supervisor/users/{user.id}/active",
        active="0",
    )  # fmt: skip
    assert off.status_code == 303
    gone = viewer.get(f"{site.b.url}/library", allow_redirects=False, timeout=30)
    assert gone.status_code == 303 and "/auth/login" in gone.headers["Location"]
    assert sign_in(viewer, site.b.url, user.email).status_code == 422


def test_the_sign_in_throttle_counts_on_both(site, db):
    user = make_user()
    for attempt in range(10):
        process = (site.a, site.b)[attempt % 2]
        wrong = sign_in(browser(), process.url, user.email, password="not the password 1")
        assert wrong.status_code == 422, (attempt, wrong.text)
    for process in (site.a, site.b):
        refused = sign_in(browser(), process.url, user.email)  # even the right password
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 60
        assert "Try again in about 15 minutes" in refused.text


def test_a_video_password_lockout_holds_on_both(site, db, media_in):
    video = store_video(title="Locked reel", password=VIDEO_PASSWORD)
    guesser = browser()
    for attempt in range(5):
        process = (site.a, site.b)[attempt % 2]
        wrong = post_form(
            guesser, process.url, f"/watch/{video.id}", f"/watch/{video.id}/unlock",
            password=f"guess {attempt}",
        )  # fmt: skip
        assert wrong.status_code == 422, (attempt, wrong.text)
    for process in (site.b, site.a):
        refused = post_form(
            guesser, process.url, f"/watch/{video.id}", f"/watch/{video.id}/unlock",
            password=VIDEO_PASSWORD,
        )  # fmt: skip
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_a_film_hidden_on_one_is_gone_from_the_other_at_once(site, db):
    film = make_movie("Vanishing Point", popular_score=90, trending_score=3)
    make_movie("Stays Put", popular_score=80)
    # Versions start again at each wipe of the test database (never on a real site): move
    # past any version the servers kept rows under in this module.
    for _ in range(50):
        catalog.bump_version()
    db.session.commit()
    viewer = browser()
    # The other process renders and keeps the home rows (its copy and Redis's) first.
    for _ in range(2):
        assert "Vanishing Point" in viewer.get(f"{site.b.url}/", timeout=30).text
    assert viewer.get(f"{site.b.url}/movies/{film.id}", timeout=30).status_code == 200

    boss = make_supervisor()
    supervisor = browser()
    assert sign_in(supervisor, site.a.url, boss.email).status_code == 303
    hidden = post_form(
        supervisor, site.a.url, "/supervisor/movies", f"/supervisor/movies/{film.id}/visibility",
        hidden="1", reason="rights expired",
    )  # fmt: skip
    assert hidden.status_code == 303

    home = viewer.get(f"{site.b.url}/", timeout=30)
    assert "Vanishing Point" not in home.text and "Stays Put" in home.text
    assert viewer.get(f"{site.b.url}/movies/{film.id}", timeout=30).status_code == 404
    assert "Vanishing Point" not in viewer.get(f"{site.b.url}/search?q=vanishing").text


def test_a_grant_made_on_one_streams_on_the_other(site, db, media_in):
    data = sample_bytes()
    video = store_video(title="Shared grant", password=VIDEO_PASSWORD)
    viewer = browser()
    refused = viewer.get(f"{site.b.url}/stream/{video.id}", timeout=30)
    assert refused.status_code == 403
    unlocked = post_form(
        viewer, site.a.url, f"/watch/{video.id}", f"/watch/{video.id}/unlock",
        password=VIDEO_PASSWORD,
    )  # fmt: skip
    assert unlocked.status_code == 303
    piece = viewer.get(f"{site.b.url}/stream/{video.id}", headers={"Range": "bytes=0-99"})
    assert piece.status_code == 206 and piece.content == data[:100]


def test_an_upload_to_one_is_served_by_the_other(site, db):
    boss = make_supervisor()
    supervisor = browser()
    assert sign_in(supervisor, site.a.url, boss.email).status_code == 303
    page = supervisor.get(f"{site.a.url}/supervisor/videos/new", timeout=30)
    data = sample_bytes()
    uploaded = supervisor.post(
        f"{site.a.url}/supervisor/videos/new",
        data={"csrf_token": csrf_from(page.text), "title": "Uploaded on A", "description": ""},
        files={"file": ("reel.mp4", data, "video/mp4")},
        allow_redirects=False,
        timeout=60,
    )
    assert uploaded.status_code == 303, uploaded.text
    db.session.expire_all()
    video = db.session.scalar(sa.select(Video).where(Video.title == "Uploaded on A"))
    viewer = browser()
    assert viewer.get(f"{site.b.url}/watch/{video.id}", timeout=30).status_code == 200
    whole = viewer.get(f"{site.b.url}/stream/{video.id}", timeout=30)
    assert whole.status_code == 200
    assert hashlib.sha256(whole.content).hexdigest() == video.sha256
    assert whole.content == data


def test_the_score_refresh_runs_once_across_both(site, db):
    make_movie("Scored", popular_score=1)
    runs = [site.a.run("refresh-scores", "--if-due"), site.b.run("refresh-scores", "--if-due")]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        outputs.append(out.strip())
    assert sorted(outputs) == ["Scores are fresh: nothing to do.", "Scores refreshed."]
    db.session.expire_all()
    job = db.session.get(JobRun, scores.REFRESH_JOB)
    assert job is not None and job.finished_at is not None


def test_a_two_factor_code_works_once_across_both(site, db):
    secret = pyotp.random_base32()
    user = make_user(totp_secret=secret)
    first, second = browser(), browser()
    for visitor, process in ((first, site.a), (second, site.b)):
        started = sign_in(visitor, process.url, user.email)
        assert started.status_code == 303 and "/auth/mfa" in started.headers["Location"]
    code = pyotp.TOTP(secret).now()
    accepted = post_form(first, site.a.url, "/auth/mfa", "/auth/mfa", code=code)
    assert accepted.status_code == 303
    replayed = post_form(second, site.b.url, "/auth/mfa", "/auth/mfa", code=code)
    assert replayed.status_code == 422
    assert second.get(f"{site.b.url}/library", allow_redirects=False).status_code == 303


BucketPair = tuple[AuraProcess, AuraProcess, Bucket]


@pytest.fixture(scope="module")
def bucket_pair(app, s3_server, tmp_path_factory) -> Iterator[BucketPair]:
    """Two processes whose media is in one bucket of the test S3 server."""
    redis_url = _shared_redis()
    client = s3_client(s3_server)
    bucket = Bucket(f"aura-instances-{secrets.token_hex(4)}", s3_server, client)
    client.create_bucket(Bucket=bucket.name)
    root = tmp_path_factory.mktemp("bucket-instances")
    try:
        a, b = _start_pair(
            app,
            root,
            AURA_REDIS_URL=redis_url,
            AURA_MEDIA_DIR=str(root / "media"),
            AURA_MEDIA_STORAGE="s3",
            AURA_S3_ENDPOINT=s3_server,
            AURA_S3_BUCKET=bucket.name,
            AURA_S3_REGION=REGION,
            AURA_S3_ADDRESSING="path",
        )
    except BaseException:
        client.delete_bucket(Bucket=bucket.name)
        raise
    try:
        yield a, b, bucket
    finally:
        b.stop()
        a.stop()
        bucket.empty()
        client.delete_bucket(Bucket=bucket.name)


def test_an_upload_into_the_bucket_on_one_is_served_by_the_other(bucket_pair, db):
    a, b, bucket = bucket_pair
    boss = make_supervisor()
    supervisor = browser()
    assert sign_in(supervisor, a.url, boss.email).status_code == 303
    page = supervisor.get(f"{a.url}/supervisor/videos/new", timeout=30)
    data = sample_bytes()
    uploaded = supervisor.post(
        f"{a.url}/supervisor/videos/new",
        data={"csrf_token": csrf_from(page.text), "title": "Into the bucket", "description": ""},
        files={"file": ("reel.mp4", data, "video/mp4")},
        allow_redirects=False,
        timeout=60,
    )
    assert uploaded.status_code == 303, a.errors()
    db.session.expire_all()
    video = db.session.scalar(sa.select(Video).where(Video.title == "Into the bucket"))
    assert video.storage_key in bucket.names() and bucket.get(video.storage_key) == data
    # B sends the viewer to the bucket, for that one object, and the bucket answers ranges.
    viewer = browser()
    assert viewer.get(f"{b.url}/watch/{video.id}", timeout=30).status_code == 200
    sent = viewer.get(f"{b.url}/stream/{video.id}", allow_redirects=False, timeout=30)
    assert sent.status_code == 307, b.errors()
    location = sent.headers["Location"]
    assert location.startswith(f"{bucket.endpoint}/{bucket.name}/{video.storage_key}?")
    part = viewer.get(location, headers={"Range": "bytes=100-199"}, timeout=30)
    assert part.status_code == 206 and part.content == data[100:200]
    assert not a.errors().count("Traceback") and not b.errors().count("Traceback")
