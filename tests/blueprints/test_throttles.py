"""Guessing is bounded, the owner is never locked out, and every 429 tells the truth.

Clients come from chosen addresses (``REMOTE_ADDR``); a browser that signed in before carries
the signed device cookie the sign-in set.
"""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from aura.models import AuditEvent, User
from aura.services import mfa, values
from tests.factories import PASSWORD, csrf_from, make_user

WRONG = "guessing wrong again"


def sign_in(client, email, password=PASSWORD, address="198.51.100.1", **headers):
    page = client.get("/auth/login", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
        csrf=False,
    )


def retry_after(response) -> int:
    assert response.status_code == 429, response.text
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 15 * 60
    minutes = -(-seconds // 60)
    assert f"about {minutes} minute" in response.text or "less than a minute" in response.text
    return seconds


@pytest.fixture
def owner(db):
    return make_user(email="ann@example.com", display_name="Ann")


@pytest.fixture
def owners_browser(app, owner):
    """The owner's own browser: it signed in once (and out), so it carries a device cookie."""
    browser = app.test_client()
    assert sign_in(browser, owner.email, address="203.0.113.5").status_code == 303
    assert browser.get_cookie("aura_device") is not None
    browser.post("/auth/logout")
    return browser


def test_ten_addresses_guessing_never_lock_out_the_owners_browser(app, owner, owners_browser):
    attacker = app.test_client()
    for number in range(10):
        assert sign_in(attacker, owner.email, WRONG, f"198.51.100.{number}").status_code == 422
    # Unknown browsers are held off the account, with the true wait ...
    stranger = app.test_client()
    retry_after(sign_in(stranger, owner.email, address="192.0.2.77"))
    # ... and the owner's own browser signs in with the right password, from anywhere.
    assert sign_in(owners_browser, owner.email, address="192.0.2.200").status_code == 303


def test_a_trusted_browser_is_limited_on_its_own(app, owner, owners_browser):
    for _ in range(10):
        assert sign_in(owners_browser, owner.email, WRONG).status_code == 422
    response = sign_in(owners_browser, owner.email)
    assert "from this browser" in response.text
    retry_after(response)
    # Its guesses did not lock the account for the owner's other browsers... nor for others.
    other = app.test_client()
    assert sign_in(other, owner.email, address="192.0.2.1").status_code == 303


def test_a_forged_or_foreign_device_cookie_trusts_nothing(app, owner, owners_browser):
    make_user(email="bob@example.com")
    bobs = app.test_client()
    assert sign_in(bobs, "bob@example.com").status_code == 303  # trusted for bob, not ann
    bobs.post("/auth/logout")
    forged = app.test_client()
    forged.set_cookie("aura_device", "W1siYWJjIiwiZGVmIl1d.forged")
    attacker = app.test_client()
    for number in range(10):
        sign_in(attacker, owner.email, WRONG, f"198.51.100.{number}")
    for client in (bobs, forged):
        assert sign_in(client, owner.email, address="192.0.2.9").status_code == 429


def test_one_address_guessing_many_accounts_is_held_off(app, db):
    attacker = app.test_client()
    for number in range(30):
        assert sign_in(attacker, f"person{number}@example.com", WRONG).status_code == 422
    retry_after(sign_in(attacker, "person99@example.com", WRONG))
    # Somewhere else, the same emails are only wrong.
    assert sign_in(app.test_client(), "person1@example.com", WRONG, "192.0.2.3").status_code == 422


def test_the_account_counts_however_the_email_is_typed(app, owner):
    attacker = app.test_client()
    spellings = ["ann@example.com", "ANN@example.com", " Ann@Example.com ", "ａｎｎ@example.com"]
    for number in range(10):
        sign_in(attacker, spellings[number % 4], WRONG, f"198.51.100.{number}")
    retry_after(sign_in(app.test_client(), owner.email, address="192.0.2.50"))


def test_successful_sign_ins_do_not_count(app, owner):
    browser = app.test_client()
    for _ in range(12):
        assert sign_in(browser, owner.email).status_code == 303
        browser.post("/auth/logout")


def test_a_lockout_is_audited_once_not_per_refused_request(app, owner, db):
    attacker = app.test_client()
    for number in range(25):
        sign_in(attacker, owner.email, WRONG, f"198.51.100.{number}")
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("login.failure") == 10
    assert actions.count("login.throttled") == 1


def test_a_throttled_htmx_sign_in_keeps_the_form_with_the_message(app, owner, hx):
    attacker = app.test_client()
    for number in range(10):
        sign_in(attacker, owner.email, WRONG, f"198.51.100.{number}")
    response = sign_in(app.test_client(), owner.email, address="192.0.2.8", **hx)
    retry_after(response)
    assert "<html" not in response.text and 'id="login_form"' in response.text


def test_registration_is_throttled_per_address(client, db):
    for number in range(20):
        response = client.post(
            "/auth/register",
            data={"email": f"taken{number}@example.com", "display_name": "X", "password": "x"},
        )
        assert response.status_code == 422
    blocked = client.post(
        "/auth/register",
        data={"email": "fine@example.com", "display_name": "X", "password": PASSWORD},
    )
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "about" in blocked.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_guessing_the_current_password_on_the_account_page_is_throttled(client, signed_in):
    wrong = {
        "action": "password",
        "pw-current_password": "a wrong guess here",
        "pw-new_password": "an entirely new passphrase",
        "pw-confirm_password": "an entirely new passphrase",
    }
    for _ in range(10):
        assert client.post("/auth/account", data=wrong).status_code == 422
    right = {**wrong, "pw-current_password": PASSWORD}
    response = client.post("/auth/account", data=right)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


# -- the second factor ----------------------------------------------------------------------------


@pytest.fixture
def totp(db):
    secret = mfa.new_secret()
    return make_user(email="tess@example.com", totp_secret=secret), secret


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH])
def test_codes_typed_with_other_digits_are_the_same_code(client, totp, digits):
    user, secret = totp
    assert sign_in(client, user.email).headers["Location"] == "/auth/mfa"
    code = pyotp.TOTP(secret).now().translate(digits)
    assert values.ascii_digits(code).isascii()
    assert client.post("/auth/mfa", data={"code": code}).status_code == 303


def test_wrong_codes_in_other_digits_count_and_never_fail_the_server(client, totp):
    user, secret = totp
    sign_in(client, user.email)
    for number in range(10):
        wrong = f"{number:06d}".translate(ARABIC_INDIC if number % 2 else FULL_WIDTH)
        assert client.post("/auth/mfa", data={"code": wrong}).status_code == 422
    response = client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 429 and re.search(r"about \d+ minute", response.text)
