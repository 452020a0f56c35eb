"""Auth routes: sign-in, registration, sessions, throttling, two-factor and the account page."""

import re

import pyotp
import pytest
import sqlalchemy as sa

from aura.models import AuditEvent, LoginSession, User
from aura.services import mfa
from tests.conftest import login_as
from tests.factories import PASSWORD, csrf_from, make_supervisor, make_user
from tests.fixtures.accounts import AuthActions

COOKIE = "aura_session"


def audit_actions(db):
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def signed_in_name(client):
    """The display name the header shows, or None when anonymous."""
    match = re.search(r'<a href="/auth/account">([^<]+)</a>', client.get("/").text)
    return match.group(1) if match else None


# -- the forms ------------------------------------------------------------------------------------


def test_login_page_has_the_fields_a_browser_test_fills(client, db):
    page = client.get("/auth/login")
    assert page.status_code == 200
    assert 'id="email"' in page.text and 'id="password"' in page.text
    assert re.search(r"<button[^>]*>Sign in</button>", page.text)
    assert 'autocomplete="current-password"' in page.text


def test_sign_in_and_out_through_the_forms(client, auth, user, db):
    response = auth.login("ANN@example.com")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert signed_in_name(client) == "Ann"
    assert auth.logout().status_code == 303
    assert signed_in_name(client) is None
    assert audit_actions(db) == ["login.success", "logout"]


def test_wrong_password_and_unknown_email_look_the_same(client, auth, user, db):
    wrong = auth.login("ann@example.com", "not the right password")
    unknown = auth.login("nobody@example.com", "not the right password")
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "That email and password do not match an account" in response.text
        assert 'value="not the right password"' not in response.text  # never echoed back
    # Apart from the email typed (echoed into the form), the two pages are the same.
    assert wrong.text.replace("ann@example.com", "X").count("\n") == unknown.text.replace(
        "nobody@example.com", "X"
    ).count("\n")
    assert signed_in_name(client) is None
    assert audit_actions(db) == ["login.failure", "login.failure"]


def test_empty_sign_in_form_says_what_is_missing(client, db):
    response = client.post("/auth/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "Enter your email address." in response.text
    assert "Enter your password." in response.text


def test_htmx_sign_in_redirects_the_whole_page(client, user, hx, db):
    response = client.post(
        "/auth/login",
        data={"email": "ann@example.com", "password": PASSWORD, "next": "/rows/popular"},
        headers=hx,
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/rows/popular"


def test_logout_is_post_only(client, signed_in):
    assert client.get("/auth/logout").status_code == 405
    assert signed_in_name(client) == "Ann"


def test_signed_in_visitors_skip_the_sign_in_page(client, signed_in):
    response = client.get("/auth/login?next=/library")
    assert response.status_code == 302 and response.headers["Location"] == "/library"


# -- next= ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "http://localhost.evil.example/",
        "/\t/evil.example",
        " //evil.example",
        "ftp://localhost/",
        "data:text/html,hi",
    ],
)
def test_next_never_leaves_the_site(client, auth, user, target):
    response = auth.login("ann@example.com", next=target)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil" not in location


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/movies/5?tab=reviews", "/movies/5?tab=reviews"),
        ("http://localhost/library", "/library"),  # same site, written out in full
    ],
)
def test_next_goes_back_inside_the_site(client, auth, user, target, expected):
    response = auth.login("ann@example.com", next=target)
    assert response.headers["Location"] == expected


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, auth, user):
    response = client.get("/auth/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login?next=/auth/account"
    page = client.get(response.headers["Location"])
    assert 'name="next" value="/auth/account"' in page.text
    assert "Please sign in to continue." in page.text
    back = auth.login("ann@example.com", next="/auth/account")
    assert back.headers["Location"] == "/auth/account"


# -- registration ---------------------------------------------------------------------------------


def test_register_signs_the_new_viewer_in(client, db):
    page = client.get("/auth/register?next=/rows/popular")
    response = client.post(
        "/auth/register",
        data={
            "email": "New@Example.com",
            "display_name": "Newcomer",
            "password": PASSWORD,
            "next": "/rows/popular",
            "csrf_token": csrf_from(page.text),
        },
        csrf=False,
    )
    assert response.status_code == 303 and response.headers["Location"] == "/rows/popular"
    assert signed_in_name(client) == "Newcomer"
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.role) == ("new@example.com", "viewer")
    assert audit_actions(db) == ["account.register", "login.success"]


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("a@example.com", "short one", "at least 12"),
        ("a@example.com", "p" * 129, "at most 128"),
        ("a@example.com", "qwerasdfzxcv", "most common"),
        ("zephyrine@example.com", "zephyrine-1984!", "too close to your email"),
        ("ANN@example.com", PASSWORD, "already exists"),
        ("not an email", PASSWORD, "valid email"),
    ],
)
def test_register_refuses_bad_accounts_with_a_message(client, user, email, password, message):
    response = client.post(
        "/auth/register",
        data={"email": email, "display_name": "Someone", "password": password},
    )
    assert response.status_code == 422
    assert message in response.text
    assert password not in response.text  # the typed password is not sent back


# -- the session ----------------------------------------------------------------------------------


def test_sign_in_rotates_the_session_and_old_csrf_tokens_stop_working(client, user):
    before = csrf_from(client.get("/auth/login").text)
    old_cookie = client.get_cookie(COOKIE).value
    client.post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": before},
        csrf=False,
    )
    assert client.get_cookie(COOKIE).value != old_cookie
    stale = client.post("/auth/logout", data={"csrf_token": before}, csrf=False)
    assert stale.status_code == 400
    assert "This form has expired" in stale.text
    assert signed_in_name(client) == "Ann"


def test_the_session_cookie_is_httponly_lax_and_permanent(client, user, auth):
    response = auth.login(user.email)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # bounded by PERMANENT_SESSION_LIFETIME


def test_production_cookies_are_secure():
    from config import load_config

    production = load_config("production")
    assert production.SESSION_COOKIE_SECURE is True
    assert production.SESSION_COOKIE_HTTPONLY is True
    assert production.SESSION_COOKIE_SAMESITE == "Lax"
    assert production.PERMANENT_SESSION_LIFETIME.days >= 1
    assert production.SESSION_IDLE_MINUTES > 0


def test_a_cookie_replayed_after_sign_out_is_anonymous(client, auth, signed_in):
    stolen = client.get_cookie(COOKIE).value
    auth.logout()
    client.set_cookie(COOKIE, stolen)
    assert signed_in_name(client) is None
    assert client.get("/auth/account").status_code == 303


def test_sign_out_everywhere_signs_other_browsers_out_and_keeps_this_one(app, db, user):

    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(user.email)
    AuthActions(phone).login(user.email)
    stolen = phone.get_cookie(COOKIE).value
    page = laptop.get("/auth/account")
    response = laptop.post(
        "/auth/account",
        data={"action": "sign-out-everywhere", "csrf_token": csrf_from(page.text)},
        csrf=False,
    )
    assert response.status_code == 303
    assert signed_in_name(laptop) == "Ann"
    assert signed_in_name(phone) is None
    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen)
    assert signed_in_name(replay) is None
    assert "sessions.revoke_all" in audit_actions(db)


def test_changing_the_password_signs_other_browsers_out(app, db, user):

    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(user.email)
    AuthActions(phone).login(user.email)
    response = laptop.post(
        "/auth/account",
        data={
            "action": "password",
            "pw-current_password": PASSWORD,
            "pw-new_password": "an entirely new passphrase",
            "pw-confirm_password": "an entirely new passphrase",
        },
    )
    assert response.status_code == 303
    assert signed_in_name(laptop) == "Ann"
    assert signed_in_name(phone) is None
    assert AuthActions(app.test_client()).login(user.email).status_code == 422
    assert (
        AuthActions(app.test_client()).login(user.email, "an entirely new passphrase").status_code
        == 303
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pw-current_password": "wrong password!!"}, "not your current password"),
        ({"pw-new_password": "qwerasdfzxcv", "pw-confirm_password": "qwerasdfzxcv"}, "common"),
        ({"pw-confirm_password": "something else entirely"}, "The two differ"),
    ],
)
def test_password_change_mistakes_are_shown(client, signed_in, fields, message):
    data = {
        "action": "password",
        "pw-current_password": PASSWORD,
        "pw-new_password": "an entirely new passphrase",
        "pw-confirm_password": "an entirely new passphrase",
        **fields,
    }
    response = client.post("/auth/account", data=data)
    assert response.status_code == 422
    assert message in response.text


def test_idle_and_expired_sessions_end_on_the_server(client, db, signed_in):
    db.session.execute(sa.update(LoginSession).values(expires_at=sa.func.current_timestamp()))
    db.session.commit()
    assert signed_in_name(client) is None


def test_a_switched_off_account_is_signed_out(client, db, signed_in):
    db.session.get(User, signed_in.id).active = False
    db.session.commit()
    assert signed_in_name(client) is None


def test_unknown_account_action_is_a_clear_400(client, signed_in):
    response = client.post("/auth/account", data={"action": "make-me-admin"})
    assert response.status_code == 400
    assert "not known" in response.text


# -- two-factor sign-in ---------------------------------------------------------------------------


@pytest.fixture
def totp_user(db):
    secret = mfa.new_secret()
    user = make_user(email="tess@example.com", display_name="Tess", totp_secret=secret)
    return user, secret


def test_a_totp_account_needs_a_code_after_the_password(client, auth, totp_user, db):
    user, secret = totp_user
    response = auth.login(user.email, next="/library")
    assert response.headers["Location"] == "/auth/mfa"
    assert signed_in_name(client) is None  # not signed in with the password alone
    page = client.get("/auth/mfa")
    assert page.status_code == 200 and 'id="code"' in page.text
    wrong = client.post("/auth/mfa", data={"code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.text
    right = client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 303 and right.headers["Location"] == "/library"
    assert signed_in_name(client) == "Tess"
    assert db.session.scalar(sa.select(LoginSession.second_factor)) is True
    assert "mfa.failure" in audit_actions(db)


def test_the_code_page_without_a_password_step_sends_you_to_sign_in(client, db):
    response = client.get("/auth/mfa")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert client.post("/auth/mfa", data={"code": "123456"}).status_code == 303


def test_second_factor_guessing_is_throttled(client, auth, totp_user):
    user, secret = totp_user
    auth.login(user.email)
    for _ in range(10):
        assert client.post("/auth/mfa", data={"code": "000000"}).status_code == 422
    assert client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()}).status_code == 429


def test_a_recovery_code_signs_in_once(app, client, auth, db):
    user = make_user(email="rita@example.com", display_name="Rita")
    from aura.services import accounts

    secret = mfa.new_secret()
    codes = accounts.enable_mfa(user.id, secret, pyotp.TOTP(secret).now())
    auth.login(user.email)
    assert client.post("/auth/mfa", data={"code": codes[0]}).status_code == 303
    assert signed_in_name(client) == "Rita"
    other = app.test_client()

    AuthActions(other).login(user.email)
    assert other.post("/auth/mfa", data={"code": codes[0]}).status_code == 422


def test_supervisors_must_set_up_two_factor_when_required(app, client, auth, db, monkeypatch):
    monkeypatch.setitem(app.config, "SUPERVISOR_MFA", "required")
    boss = make_supervisor(display_name="Boss")
    auth.login(boss.email)
    page = client.get("/auth/mfa")
    assert "Set up two-factor sign-in" in page.text
    assert 'src="data:image/svg+xml' in page.text  # the QR code, drawn on the server
    with client.session_transaction() as session:
        secret = session["pending"]["secret"]
    assert signed_in_name(client) is None
    response = client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert "Save your recovery codes" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert len(re.findall(r"<code>[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2}</code>", response.text)) == 10
    db.session.expire_all()
    assert db.session.get(User, boss.id).totp_secret == secret
    assert signed_in_name(client) == "Boss"


def test_a_supervisor_without_two_factor_is_sent_to_set_it_up(app, client, db, monkeypatch):
    boss = make_supervisor()
    login_as(client, boss)
    assert client.get("/").status_code == 200  # optional by default
    monkeypatch.setitem(app.config, "SUPERVISOR_MFA", "required")
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/account#two-factor"
    assert client.get("/auth/account").status_code == 200


def test_turning_totp_on_and_off_from_the_account_page(client, signed_in, db):
    start = client.post("/auth/account", data={"action": "mfa-start"})
    assert start.status_code == 200 and 'src="data:image/svg+xml' in start.text
    with client.session_transaction() as session:
        secret = session["mfa_setup"]
    wrong = client.post("/auth/account", data={"action": "mfa-enable", "totp-code": "111111"})
    assert wrong.status_code == 422 and "not right" in wrong.text
    done = client.post(
        "/auth/account", data={"action": "mfa-enable", "totp-code": pyotp.TOTP(secret).now()}
    )
    assert done.status_code == 200 and "Save your recovery codes" in done.text
    db.session.expire_all()
    assert db.session.get(User, signed_in.id).mfa_enabled
    refused = client.post(
        "/auth/account", data={"action": "mfa-disable", "off-password": "not my password!"}
    )
    assert refused.status_code == 422
    off = client.post("/auth/account", data={"action": "mfa-disable", "off-password": PASSWORD})
    assert off.status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, signed_in.id).mfa_enabled
    assert audit_actions(db)[-2:] == ["mfa.enable", "mfa.disable"]
