"""Forms of the supervisor's pages. They bound what arrives; the rules live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import DateInput

from aura.services import videos

# Generous caps: the services say what is too long in words; these stop what no one types.
TEXT_CAP = 4


class VideoForm(FlaskForm):
    file = FileField("Video file")
    title = StringField("Title", [Length(max=videos.TITLE_MAX * TEXT_CAP)])
    description = TextAreaField("Description", [Length(max=videos.DESCRIPTION_MAX * TEXT_CAP)])
    movie = StringField("Catalog film", [Length(max=600)])
    thumbnail = FileField("Thumbnail")
    password = PasswordField("Password", [Length(max=videos.PASSWORD_MAX * TEXT_CAP)])


class EditVideoForm(FlaskForm):
    title = StringField("Title", [Length(max=videos.TITLE_MAX * TEXT_CAP)])
    description = TextAreaField("Description", [Length(max=videos.DESCRIPTION_MAX * TEXT_CAP)])
    movie = StringField("Catalog film", [Length(max=600)])
    thumbnail = FileField("New thumbnail")
    remove_thumbnail = BooleanField("Remove the thumbnail")
    password = PasswordField("New password", [Length(max=videos.PASSWORD_MAX * TEXT_CAP)])
    remove_password = BooleanField("Remove the password (anyone may watch)")


class VisibilityForm(FlaskForm):
    """Hide (``hidden=1``) or show again (``hidden=0``), with an optional reason."""

    hidden = HiddenField()
    reason = StringField("Reason (optional)", [Length(max=2000)])


class RoleForm(FlaskForm):
    role = HiddenField()


class ActiveForm(FlaskForm):
    active = HiddenField()


class CaptionForm(FlaskForm):
    """A subtitle file and its language; the captions service checks the file's content."""

    file = FileField("Subtitle file (WebVTT or SRT)")
    language = StringField("Language code", [Length(max=100)])
    label = StringField("Label", [Length(max=400)])


# -- analytics: GET forms (no CSRF: they change nothing), read from the query string ----------

DATE_CAP = 10 * TEXT_CAP  # YYYY-MM-DD


class WindowForm(FlaskForm):
    """Which days a page covers: today, the last 7 or 30 days, or two dates."""

    class Meta:
        csrf = False

    window = SelectField(
        "Days",
        id="window-kind",
        choices=[
            SelectChoice("today", "Today"),
            SelectChoice("7d", "Last 7 days"),
            SelectChoice("30d", "Last 30 days"),
            SelectChoice("custom", "Custom dates"),
        ],
        validate_choice=False,  # the service says what is wrong, in words
    )
    start = StringField("From", [Length(max=DATE_CAP)], widget=DateInput())
    end = StringField("To", [Length(max=DATE_CAP)], widget=DateInput())


class ViewLogForm(WindowForm):
    film = StringField("Film number", [Length(max=40)])
    video = StringField("Video id", [Length(max=80)])
    user = StringField("User number", [Length(max=40)])
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice("", "Film pages and plays"),
            SelectChoice("detail", "Film pages"),
            SelectChoice("play", "Plays"),
        ],
        validate_choice=False,
    )
    bots = SelectField(
        "Bots",
        choices=[
            SelectChoice("yes", "Shown, marked"),
            SelectChoice("no", "Left out"),
            SelectChoice("only", "Only bots"),
        ],
        validate_choice=False,
    )
