"""Accounts: register, sign in (with a second factor when on), sign out, and the account page."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, flash, redirect, request, session, url_for
from flask_limiter import RequestLimit
from flask_login import current_user, login_required

from aura import sessions
from aura.blueprints.auth.forms import (
    CodeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordCheckForm,
    RegisterForm,
)
from aura.errors import Invalid
from aura.extensions import client_ip, db, limiter, login_manager
from aura.forms import EmptyForm, show_errors
from aura.htmx import hx_redirect, render
from aura.models import User
from aura.navigation import current_page, safe_next
from aura.services import accounts, agents, audit, library, mfa
from aura.services.accounts import LoginFailed
from aura.web import current_visitor

bp = Blueprint("auth", __name__)

# Guessing is throttled per client IP (every attempt) and per account (failed attempts only, so
# a person who signs in and out often is never locked out by their own successes).
LOGIN_PER_IP = "20 per minute;300 per day"
LOGIN_PER_ACCOUNT = "10 per 15 minutes"
SECOND_FACTOR_PER_ACCOUNT = "10 per 15 minutes"
REGISTER_PER_IP = "20 per hour"
ACCOUNT_CHANGES_PER_USER = "10 per 15 minutes"
HOME = "catalog.show_home"
AFTER_SIGN_IN_ENDPOINTS = ("library.toggle_watchlist", "library.rate_movie")


def _account_key() -> str:
    """The account a sign-in form names (as typed, case-folded), never stored in clear."""
    email = (request.form.get("email") or "").strip().casefold()[:320]
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _user_key() -> str:
    return "user:" + (current_user.get_id() if current_user.is_authenticated else client_ip())


def _failed(response: Response) -> bool:
    return response.status_code == 422


def _throttled(limit: RequestLimit) -> None:
    """Breaches go to the audit trail, so a supervisor sees guessing as it happens."""
    guessing_sign_in = request.endpoint in ("auth.login", "auth.second_factor")
    audit.record(
        "login.throttled" if guessing_sign_in else "auth.throttled",
        actor_id=current_user.id if current_user.is_authenticated else None,
        target=request.path,
        detail={"limit": str(limit.limit)},
        client_ip=client_ip(),
    )
    db.session.commit()


def _remember_action() -> int | None:
    """A signed-out + or star press is kept to be done after signing in; returns its film.

    The CSRF check has already passed, so the form is the page's own."""
    if request.method != "POST" or request.endpoint not in AFTER_SIGN_IN_ENDPOINTS:
        return None
    movie_id = (request.view_args or {}).get("movie_id")
    if not isinstance(movie_id, int):
        return None
    if request.endpoint == "library.toggle_watchlist":
        if request.form.get("on") != "1":
            return None
        sessions.remember_after_sign_in("watchlist", movie_id, 1)
        return movie_id
    try:
        score = library.parse_score(request.form.get("score"))
    except Invalid:
        return None
    sessions.remember_after_sign_in("rate", movie_id, score)
    return movie_id


@login_manager.unauthorized_handler
def _sign_in_first() -> Response:
    """Anonymous requests that need an account go to the sign-in page and come back after;
    a watchlist or star press comes back to its film, and is done there."""
    flash("Please sign in to continue.", "info")
    movie_id = _remember_action()
    back_to = url_for("catalog.show_movie", movie_id=movie_id) if movie_id else current_page()
    return hx_redirect(url_for("auth.login", next=back_to))


# -- sign in --------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_PER_IP, methods=["POST"], on_breach=_throttled)
@limiter.limit(
    LOGIN_PER_ACCOUNT,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_throttled,
)
def login() -> Response:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for(HOME))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, client_ip())
        except LoginFailed as failed:
            show_errors(form, failed)
        else:
            return _password_accepted(user, next_url)
    form.password.data = ""
    return render(
        "auth/login.html",
        "login_form",
        form=form,
        next_url=next_url,
        status=422 if form.is_submitted() else 200,
    )


def _password_accepted(user: User, next_url: str | None) -> Response:
    if user.mfa_enabled or mfa.required_for(user):
        sessions.begin_second_factor(
            user, next_url, secret=None if user.mfa_enabled else mfa.new_secret()
        )
        return hx_redirect(url_for("auth.second_factor"))
    sessions.start(user, current_visitor())
    flash(f"Welcome back, {user.display_name}.", "success")
    return hx_redirect(next_url or url_for(HOME))


@bp.route("/mfa", methods=["GET", "POST"])
@limiter.limit(LOGIN_PER_IP, methods=["POST"], on_breach=_throttled)
@limiter.limit(
    SECOND_FACTOR_PER_ACCOUNT,
    key_func=sessions.pending_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_throttled,
)
def second_factor() -> Response:
    pending = sessions.pending_sign_in()
    if pending is None:
        sessions.forget_pending()
        flash("Sign in again: the sign-in took too long or was already used.", "info")
        return hx_redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        user = pending.user
        if pending.secret is not None:
            try:
                codes = accounts.enable_mfa(user.id, pending.secret, form.code.data, client_ip())
            except Invalid as invalid:
                show_errors(form, invalid)
            else:
                sessions.start(user, current_visitor(), second_factor=True)
                return _show_recovery_codes(codes, pending.next_url or url_for(HOME))
        elif accounts.verify_second_factor(user.id, form.code.data, client_ip()):
            sessions.start(user, current_visitor(), second_factor=True)
            flash(f"Welcome back, {user.display_name}.", "success")
            return hx_redirect(pending.next_url or url_for(HOME))
        else:
            form.code.errors.append("That code is not right. Type the newest code from your app.")
    return render(
        "auth/mfa.html",
        "mfa_form",
        form=form,
        setup=_setup_context(pending.secret, pending.user) if pending.secret else None,
        status=422 if form.is_submitted() else 200,
    )


def _setup_context(secret: str, user: User) -> dict[str, str]:
    uri = mfa.provisioning_uri(secret, user.email)
    return {"qr": mfa.qr_data_uri(uri), "secret": mfa.grouped(secret)}


def _show_recovery_codes(codes: list[str], continue_url: str) -> Response:
    response = render("auth/recovery_codes.html", codes=codes, continue_url=continue_url)
    response.headers["Cache-Control"] = "no-store"  # shown once: never kept by any cache
    return response


# -- register and sign out ------------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_PER_IP, methods=["POST"], on_breach=_throttled)
def register() -> Response:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for(HOME))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                form.email.data, form.display_name.data, form.password.data, client_ip()
            )
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            sessions.start(user, current_visitor())
            flash(f"Welcome to Aura, {user.display_name}.", "success")
            return hx_redirect(next_url or url_for(HOME))
    form.password.data = ""
    return render(
        "auth/register.html",
        "register_form",
        form=form,
        next_url=next_url,
        status=422 if form.is_submitted() else 200,
    )


@bp.post("/logout")
def logout() -> Response:
    sessions.end(current_visitor())
    flash("You are signed out.", "info")
    return hx_redirect(url_for(HOME))


# -- the account page -----------------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit(
    ACCOUNT_CHANGES_PER_USER,
    key_func=_user_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_throttled,
)
def account() -> Response:
    forms = {
        "password": PasswordChangeForm(prefix="pw"),
        "mfa_enable": CodeForm(prefix="totp"),
        "mfa_disable": PasswordCheckForm(prefix="off"),
        "recovery": PasswordCheckForm(prefix="codes"),
        "button": EmptyForm(),
    }
    action = request.form.get("action") if request.method == "POST" else None
    handler = ACCOUNT_ACTIONS.get(action or "")
    if request.method == "POST" and handler is None:
        flash("That action is not known here.", "error")
        return _account_page(forms, status=400)
    if handler is not None:
        return handler(forms)
    return _account_page(forms)


def _account_page(forms: dict, status: int = 200, setup: dict | None = None) -> Response:
    user = current_user
    response = render(
        "auth/account.html",
        status=status,
        user=user,
        forms=forms,
        sessions=[
            (item, agents.describe(item.user_agent)) for item in sessions.live_sessions(user.id)
        ],
        this_session=sessions.current_session_id(),
        mfa_required=mfa.required_for(user),
        setup=setup,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _change_password(forms: dict) -> Response:
    form = forms["password"]
    if form.validate():
        try:
            user = accounts.change_password(
                current_user.id, form.current_password.data, form.new_password.data, client_ip()
            )
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            sessions.rotate(user, current_visitor())
            flash("Password changed. Every other browser is now signed out.", "success")
            return hx_redirect(url_for("auth.account"))
    return _account_page(forms, status=422)


def _sign_out_everywhere(forms: dict) -> Response:
    sessions.end_everywhere(current_user.id, current_visitor())
    flash("Every other browser is now signed out.", "success")
    return hx_redirect(url_for("auth.account"))


def _start_mfa(forms: dict) -> Response:
    if current_user.mfa_enabled:
        return hx_redirect(url_for("auth.account"))
    secret = mfa.new_secret()
    session["mfa_setup"] = secret
    return _account_page(forms, setup=_setup_context(secret, current_user))


def _enable_mfa(forms: dict) -> Response:
    form = forms["mfa_enable"]
    secret = session.get("mfa_setup")
    if form.validate():
        try:
            codes = accounts.enable_mfa(current_user.id, secret or "", form.code.data, client_ip())
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            session.pop("mfa_setup", None)
            session[sessions.SECOND_FACTOR] = True
            return _show_recovery_codes(codes, url_for("auth.account"))
    setup = _setup_context(secret, current_user) if secret else None
    return _account_page(forms, status=422, setup=setup)


def _disable_mfa(forms: dict) -> Response:
    form = forms["mfa_disable"]
    if form.validate():
        try:
            accounts.disable_mfa(current_user.id, form.password.data, client_ip())
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            flash("Two-factor sign-in is off.", "info")
            return hx_redirect(url_for("auth.account"))
    return _account_page(forms, status=422)


def _new_recovery_codes(forms: dict) -> Response:
    form = forms["recovery"]
    if form.validate():
        try:
            codes = accounts.regenerate_recovery_codes(
                current_user.id, form.password.data, client_ip()
            )
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            return _show_recovery_codes(codes, url_for("auth.account"))
    return _account_page(forms, status=422)


ACCOUNT_ACTIONS = {
    "password": _change_password,
    "sign-out-everywhere": _sign_out_everywhere,
    "mfa-start": _start_mfa,
    "mfa-enable": _enable_mfa,
    "mfa-disable": _disable_mfa,
    "recovery-codes": _new_recovery_codes,
}
