"""Site counters: the catalog's version, bumped when what viewers see in the rows changes, so
rendered rows cached under it go stale on every process at once.

Revision ID: 0009_site_counter
Revises: 0008_video_library
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0009_site_counter"
down_revision = "0008_video_library"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "site_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_counter")),
    )


def downgrade():
    op.drop_table("site_counter")
