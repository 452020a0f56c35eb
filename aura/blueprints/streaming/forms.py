"""Forms of the player pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import Length


class UnlockForm(FlaskForm):
    password = PasswordField("Password", [Length(max=1024)], id="video-password")
