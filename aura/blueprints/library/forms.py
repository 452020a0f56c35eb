"""Forms of the library. They bound what arrives; the rules live in the library service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from aura.services.library import REVIEW_MAX, SCORE_MESSAGE


class RatingForm(FlaskForm):
    """A score of 1 to 10 (ten radio buttons drawn as stars) and an optional review."""

    score = StringField("Your rating", [Length(max=8, message=SCORE_MESSAGE)])
    review = TextAreaField("Review", [Length(max=REVIEW_MAX * 4)])


class DiaryForm(FlaskForm):
    """A film and the day it was watched (a date input sends ``YYYY-MM-DD``)."""

    movie = StringField("Film", [Length(max=20)])
    watched_on = StringField("Watched on", [Length(max=20)])
