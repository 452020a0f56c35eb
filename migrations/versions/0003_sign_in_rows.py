"""Signed-in browsers are decided by their login_session row alone: the per-user session
version that also signed browsers out is gone.

Revision ID: 0003_sign_in_rows
Revises: 0002_login_session
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0003_sign_in_rows"
down_revision = "0002_login_session"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_version")


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
