"""Forms of the auth blueprint. Field rules that need the database live in the accounts service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from aura.services.passwords import MAX_LENGTH

# Long enough for any real value, short enough that nothing huge reaches the services.
PASSWORD_FIELD = [DataRequired("Enter your password."), Length(max=MAX_LENGTH * 4)]


class LoginForm(FlaskForm):
    email = EmailField("Email", [DataRequired("Enter your email address."), Length(max=320)])
    password = PasswordField("Password", PASSWORD_FIELD)
    next = HiddenField()


class RegisterForm(FlaskForm):
    email = EmailField("Email", [DataRequired("Enter your email address."), Length(max=320)])
    display_name = StringField(
        "Display name", [DataRequired("Enter the name other people will see."), Length(max=200)]
    )
    password = PasswordField("Password", [DataRequired("Choose a password."), PASSWORD_FIELD[1]])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField("Code", [DataRequired("Enter the code from your app."), Length(max=40)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", PASSWORD_FIELD)
    new_password = PasswordField(
        "New password", [DataRequired("Choose a new password."), PASSWORD_FIELD[1]]
    )
    confirm_password = PasswordField(
        "Repeat the new password",
        [DataRequired("Type the new password again."), EqualTo("new_password", "The two differ.")],
    )


class PasswordCheckForm(FlaskForm):
    """A sensitive change (turning two-factor off, new recovery codes) asks for the password."""

    password = PasswordField("Current password", PASSWORD_FIELD)


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password", [DataRequired("Choose a new password."), PASSWORD_FIELD[1]]
    )
    confirm_password = PasswordField(
        "Repeat the new password",
        [DataRequired("Type the new password again."), EqualTo("new_password", "The two differ.")],
    )
