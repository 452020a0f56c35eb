from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import AnonymousUserMixin, UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from aura.extensions import db
from aura.models.base import UTCDateTime, utcnow

ROLES = ("viewer", "supervisor")


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (sa.CheckConstraint("role IN ('viewer', 'supervisor')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)  # stored case-folded
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), default="viewer")
    active: Mapped[bool] = mapped_column(default=True)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    recovery_codes: Mapped[list | None] = mapped_column(sa.JSON)  # hashes, never the codes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_secret is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Anonymous(AnonymousUserMixin):
    """A visitor who has not signed in: answers the same role questions as a User."""

    is_supervisor = False
    mfa_enabled = False
