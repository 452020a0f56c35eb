"""Small counters every process must agree on (one row each)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from aura.extensions import db


class SiteCounter(db.Model):
    """A named counter, e.g. ``catalog``: bumped whenever what viewers see in the rows changes,
    so anything rendered under an older value is stale on every process at once."""

    __tablename__ = "site_counter"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
