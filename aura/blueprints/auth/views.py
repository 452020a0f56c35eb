"""Accounts: register, sign in (with a second factor when on), sign out, and the account page."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, session, url_for
from flask_login import current_user, login_required

from aura import sessions
from aura.blueprints.auth.forms import (
    CodeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordCheckForm,
    RegisterForm,
    ResetPasswordForm,
)
from aura.errors import Invalid, Throttled
from aura.extensions import client_ip, login_manager
from aura.forms import EmptyForm, show_errors
from aura.htmx import hx_redirect, render
from aura.models import User
from aura.navigation import current_page, safe_next
from aura.services import accounts, library, mfa, resets, user_agents
from aura.services.accounts import LoginFailed
from aura.web import current_visitor

bp = Blueprint("auth", __name__)

# Guessing is throttled in the accounts service (aura.services.throttles): failures only, per
# browser for one that signed in before, else per account and per address.
HOME = "catalog.show_home"
AFTER_SIGN_IN_ENDPOINTS = ("library.toggle_watchlist", "library.rate_movie")


def _refused(template: str, block: str, form, throttled: Throttled, **context) -> Response:
    """The form again with the throttle's message and the true Retry-After."""
    show_errors(form, Invalid(throttled.message))
    response = render(template, block, form=form, status=429, **context)
    response.headers["Retry-After"] = str(throttled.retry_after)
    return response


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
def login() -> Response:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for(HOME))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data,
                form.password.data,
                client_ip(),
                device=sessions.trusted_device(form.email.data),
            )
        except LoginFailed as failed:
            show_errors(form, failed)
        except Throttled as throttled:
            form.password.data = ""
            return _refused("auth/login.html", "login_form", form, throttled, next_url=next_url)
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
        else:
            device = sessions.trusted_device(user.email)
            try:
                passed = accounts.verify_second_factor(
                    user.id, form.code.data, client_ip(), device=device
                )
            except Throttled as throttled:
                return _refused("auth/mfa.html", "mfa_form", form, throttled, setup=None)
            if passed:
                sessions.start(user, current_visitor(), second_factor=True)
                flash(f"Welcome back, {user.display_name}.", "success")
                return hx_redirect(pending.next_url or url_for(HOME))
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
        except Throttled as throttled:
            form.password.data = ""
            return _refused(
                "auth/register.html", "register_form", form, throttled, next_url=next_url
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


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    """Choose a new password from a one-time link a supervisor made."""
    visitor = current_visitor()
    reset = resets.find(token, visitor)  # NotFound (gone) or Throttled: the error page says
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = resets.use(token, form.new_password.data, visitor)
        except Invalid as invalid:
            show_errors(form, invalid)
        else:
            if current_user.is_authenticated:
                sessions.end(visitor)
            flash(
                f"Your password is changed, {user.display_name}. Every browser was signed out: "
                "sign in with the new password.",
                "success",
            )
            return hx_redirect(url_for("auth.login"))
    form.new_password.data = form.confirm_password.data = ""
    response = render(
        "auth/reset_password.html",
        "reset_form",
        form=form,
        token=token,
        expires_at=reset.expires_at,
        status=422 if form.is_submitted() else 200,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link must not leave in a Referer
    return response


@bp.post("/logout")
def logout() -> Response:
    sessions.end(current_visitor())
    flash("You are signed out.", "info")
    return hx_redirect(url_for(HOME))


# -- the account page -----------------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
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
            (item, user_agents.summary(item.user_agent)) for item in sessions.live_sessions(user.id)
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
