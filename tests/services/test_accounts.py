"""Accounts service: password rules and hashing, sign-in, login sessions, two-factor."""

import pyotp
import pytest
import sqlalchemy as sa

from aura import sessions
from aura.errors import Forbidden, Invalid
from aura.models import AuditEvent, User
from aura.services import accounts, mfa, passwords
from aura.services.accounts import LoginFailed
from aura.services.passwords import PasswordRejected
from aura.services.visitors import Visitor
from tests.factories import PASSWORD, make_supervisor, make_user

# -- password policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "short pass1",  # 11 characters
        "x" * 129,
        "qwerasdfzxcv",  # in the bundled list
        "1q2w3e4r5t6y7u8i9o0p",  # in the bundled list
        "iloveyou2024!!",  # a listed password padded to length
        "Password123456",
        "abcabcabcabc",  # one short chunk repeated
        "annabel.lee-1849",  # holds the email's local part
        "Annabel Lee 1849",  # holds the display name
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password):
    with pytest.raises(PasswordRejected) as refused:
        passwords.check_policy(
            password, email="annabel.lee@example.com", display_name="Annabel Lee"
        )
    assert refused.value.message


@pytest.mark.parametrize(
    "password", ["x1" * 6 + "qZ", "correct horse battery", "é" * 6 + "ünïcode!"]
)
def test_good_passwords_pass(password):
    passwords.check_policy(password, email="annabel.lee@example.com", display_name="Annabel Lee")


def test_length_bounds_are_twelve_and_one_hundred_twenty_eight():
    passwords.check_policy("mq7#vT2!pL9z", email="a@example.com")  # exactly 12
    passwords.check_policy("mq7#vT2!pL9z" * 10 + "k2#Lm9!q", email="a@example.com")  # 128
    with pytest.raises(PasswordRejected, match="at least 12"):
        passwords.check_policy("mq7#vT2!pL9", email="a@example.com")
    with pytest.raises(PasswordRejected, match="at most 128"):
        passwords.check_policy("mq7#vT2!pL9z" * 10 + "k2#Lm9!qX", email="a@example.com")


def test_the_bundled_common_password_list_is_loaded():
    common = passwords.common_passwords()
    assert len(common) > 15000
    assert "password" in common and "qwerasdfzxcv" in common


def test_hashes_are_scrypt_and_nothing_is_truncated():
    long_one = "k" * 127 + "a"
    hashed = passwords.hash_password(long_one)
    assert hashed.startswith("scrypt:")
    assert passwords.verify_password(hashed, long_one)
    # bcrypt would stop reading at 72 bytes; the last character here must still count.
    assert not passwords.verify_password(hashed, "k" * 127 + "b")
    assert not passwords.verify_password(hashed, "k" * 72)


# -- registration ---------------------------------------------------------------------------------


def test_register_case_folds_the_email_and_audits(db):
    user = accounts.register("  Ann.Smith@Example.COM ", " Ann\x00 Smith ", PASSWORD, "10.0.0.1")
    assert user.email == "ann.smith@example.com"
    assert user.display_name == "Ann Smith"
    assert user.role == "viewer"
    assert user.password_hash.startswith("scrypt:")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.register"))
    assert event.actor_id == user.id and event.ip == "10.0.0.1"


def test_register_refuses_the_same_email_in_another_case(db):
    accounts.register("ann@example.com", "Ann", PASSWORD)
    with pytest.raises(Invalid) as refused:
        accounts.register("ANN@example.com", "Another Ann", PASSWORD)
    assert list(refused.value.fields) == ["email"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    ("email", "name", "password", "field"),
    [
        ("not-an-email", "Ann", PASSWORD, "email"),
        ("a@b", "Ann", PASSWORD, "email"),
        ("x" * 250 + "@example.com", "Ann", PASSWORD, "email"),
        ("ann@example.com", "   ", PASSWORD, "display_name"),
        ("ann@example.com", "n" * 81, PASSWORD, "display_name"),
        ("ann@example.com", "Ann", "password1234", "password"),
    ],
)
def test_register_refuses_bad_input_field_by_field(db, email, name, password, field):
    with pytest.raises(Invalid) as refused:
        accounts.register(email, name, password)
    assert list(refused.value.fields) == [field]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# -- signing in -----------------------------------------------------------------------------------


def test_unknown_email_and_wrong_password_get_the_same_answer_and_the_same_work(db, monkeypatch):
    make_user(email="ann@example.com")
    checks = []
    real_check = passwords.check_password_hash
    monkeypatch.setattr(
        passwords, "check_password_hash", lambda *a: checks.append(a[0][:7]) or real_check(*a)
    )
    answers = []
    for email in ("nobody@example.com", "ann@example.com"):
        with pytest.raises(LoginFailed) as failed:
            accounts.authenticate(email, "not the password at all", "10.0.0.9")
        answers.append(failed.value.message)
    assert answers[0] == answers[1] == accounts.LOGIN_FAILED
    assert checks == ["scrypt:", "scrypt:"]  # one scrypt check each, known account or not
    failures = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "login.failure").order_by(AuditEvent.id)
    ).all()
    assert [event.detail["reason"] for event in failures] == ["unknown email", "wrong password"]
    assert [event.target for event in failures] == ["nobody@example.com", "ann@example.com"]


def test_authenticate_ignores_email_case_and_refuses_switched_off_accounts(db):
    user = make_user(email="ann@example.com")
    assert accounts.authenticate("ANN@example.com", PASSWORD).id == user.id
    user.active = False
    db.session.commit()
    with pytest.raises(LoginFailed, match="switched off"):
        accounts.authenticate("ann@example.com", PASSWORD)
    with pytest.raises(LoginFailed, match="do not match"):
        accounts.authenticate("ann@example.com", "wrong password here")


def test_overlong_passwords_are_refused_without_hashing(db, monkeypatch):
    make_user(email="ann@example.com")
    monkeypatch.setattr(passwords, "check_password_hash", lambda *a: pytest.fail("hashed"))
    with pytest.raises(LoginFailed):
        accounts.authenticate("ann@example.com", "x" * 100_000)


# -- password change ------------------------------------------------------------------------------


def test_change_password_needs_the_current_one_and_follows_the_policy(db):
    user = make_user(email="ann@example.com")
    with pytest.raises(Invalid) as wrong:
        accounts.change_password(user.id, "not my password!", "a brand new passphrase")
    assert list(wrong.value.fields) == ["current_password"]
    with pytest.raises(Invalid) as weak:
        accounts.change_password(user.id, PASSWORD, "leavemealone")
    assert list(weak.value.fields) == ["new_password"]
    with pytest.raises(Invalid):
        accounts.change_password(user.id, PASSWORD, PASSWORD)
    token = sessions.new_session(user, Visitor())
    db.session.commit()
    changed = accounts.change_password(user.id, PASSWORD, "a brand new passphrase")
    assert passwords.verify_password(changed.password_hash, "a brand new passphrase")
    assert sessions.check(user.id, token) is None


# -- two-factor -----------------------------------------------------------------------------------


def test_enabling_totp_needs_a_right_code_and_returns_recovery_codes_once(db):
    user = make_user()
    secret = mfa.new_secret()
    with pytest.raises(Invalid):
        accounts.enable_mfa(user.id, secret, "000000")
    codes = accounts.enable_mfa(user.id, secret, pyotp.TOTP(secret).now())
    db.session.refresh(user)
    assert user.mfa_enabled and user.totp_secret == secret
    assert len(codes) == 10 and len(set(codes)) == 10
    assert not any(code in str(user.recovery_codes) for code in codes)  # only hashes are kept


def test_a_totp_code_works_once(db):
    user = make_user()
    secret = mfa.new_secret()
    user.totp_secret = secret
    db.session.commit()
    code = pyotp.TOTP(secret).now()
    assert accounts.verify_second_factor(user.id, code)
    assert not accounts.verify_second_factor(user.id, code)  # replayed
    assert not accounts.verify_second_factor(user.id, "12345")
    assert not accounts.verify_second_factor(user.id, "")


def test_recovery_codes_each_work_once(db):
    user = make_user()
    codes = accounts.enable_mfa(user.id, (secret := mfa.new_secret()), pyotp.TOTP(secret).now())
    assert accounts.verify_second_factor(user.id, codes[3].lower().replace("-", " "))
    assert not accounts.verify_second_factor(user.id, codes[3])
    db.session.refresh(user)
    assert len(user.recovery_codes) == 9
    new_codes = accounts.regenerate_recovery_codes(user.id, PASSWORD)
    assert not accounts.verify_second_factor(user.id, codes[0])  # the old set is gone
    assert accounts.verify_second_factor(user.id, new_codes[0])


def test_supervisors_cannot_turn_two_factor_off_when_the_site_requires_it(app, db, monkeypatch):
    boss = make_supervisor()
    secret = mfa.new_secret()
    accounts.enable_mfa(boss.id, secret, pyotp.TOTP(secret).now())
    monkeypatch.setitem(app.config, "SUPERVISOR_MFA", "required")
    assert mfa.required_for(boss)
    with pytest.raises(Forbidden):
        accounts.disable_mfa(boss.id, PASSWORD)
    monkeypatch.setitem(app.config, "SUPERVISOR_MFA", "optional")
    with pytest.raises(Invalid):
        accounts.disable_mfa(boss.id, "wrong password!!")
    accounts.disable_mfa(boss.id, PASSWORD)
    db.session.refresh(boss)
    assert not boss.mfa_enabled and boss.recovery_codes is None


def test_the_qr_code_is_an_svg_made_here():
    uri = mfa.provisioning_uri(mfa.new_secret(), "ann@example.com")
    assert uri.startswith("otpauth://totp/Aura:ann%40example.com?secret=")
    image = mfa.qr_data_uri(uri)
    assert image.startswith("data:image/svg+xml")


# -- command line and demo accounts ---------------------------------------------------------------


def test_create_user_makes_supervisors_and_audits(db):
    user = accounts.create_user("Boss@Example.com", PASSWORD, supervisor=True)
    assert user.role == "supervisor" and user.display_name == "boss"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.detail == {"role": "supervisor"}


def test_demo_accounts_are_created_once_with_random_passwords(db):
    created = accounts.ensure_demo_accounts()
    assert [(a.email, a.role) for a in created] == [
        ("viewer@aura.local", "viewer"),
        ("supervisor@aura.local", "supervisor"),
    ]
    assert created[0].password != created[1].password
    for account in created:
        assert accounts.authenticate(account.email, account.password).role == account.role
    assert accounts.ensure_demo_accounts() == []


@pytest.mark.parametrize(
    "twin",
    [
        "ｖiewer@example.com",
        "VIEWER@EXAMPLE.COM",
        "ｖｉｅｗｅｒ@ｅｘａｍｐｌｅ.ｃｏｍ",
        " viewer@example.com ",
    ],
)
def test_look_alike_emails_are_the_same_account(db, twin):
    accounts.register("viewer@example.com", "Viewer", PASSWORD)
    with pytest.raises(Invalid) as refused:
        accounts.register(twin, "Twin", PASSWORD + " 2")
    assert "already exists" in refused.value.fields["email"]


@pytest.mark.parametrize(
    "email", ['"><script>@example.com', "a<b@example.com", "x'y@example.com", "a&b@example.com"]
)
def test_addresses_with_markup_in_the_local_part_are_refused(db, email):
    with pytest.raises(Invalid) as refused:
        accounts.register(email, "Someone", PASSWORD)
    assert list(refused.value.fields) == ["email"]
