"""Forms of the supervisor's pages. Rules live in the services; these only carry the fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, StringField, TextAreaField


class VideoForm(FlaskForm):
    file = FileField("Video file")
    title = StringField("Title")
    description = TextAreaField("Description")
    movie = StringField("Catalog film")
    thumbnail = FileField("Thumbnail")
    password = PasswordField("Password")


class EditVideoForm(FlaskForm):
    title = StringField("Title")
    description = TextAreaField("Description")
    movie = StringField("Catalog film")
    thumbnail = FileField("New thumbnail")
    remove_thumbnail = BooleanField("Remove the thumbnail")
    password = PasswordField("New password")
    remove_password = BooleanField("Remove the password (anyone may watch)")
