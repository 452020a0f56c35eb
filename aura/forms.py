"""What every form shares: the CSRF-only button form, and putting a service's ``Invalid`` on a
form so each message shows beside its field (``templates/_form.html`` renders them)."""

from __future__ import annotations

from flask_wtf import FlaskForm

from aura.errors import Invalid


class EmptyForm(FlaskForm):
    """A button and its CSRF token."""


def show_errors(form: FlaskForm, invalid: Invalid) -> None:
    """Each of ``invalid``'s field messages beside its field; anything else above the form."""
    if not invalid.fields:
        form.form_errors.append(invalid.message)
        return
    for name, message in invalid.fields.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


def has_errors(form: FlaskForm) -> bool:
    return bool(form.errors or form.form_errors)
