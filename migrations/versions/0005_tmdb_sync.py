"""TMDB sync runs: when each `aura sync-tmdb` ran, how it ended and what it did.

Revision ID: 0005_tmdb_sync
Revises: 0004_analytics
Create Date: 2026-12-01 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0005_tmdb_sync"
down_revision = "0004_analytics"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.CheckConstraint("kind IN ('full', 'changes')", name=op.f("ck_sync_run_kind")),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'partial', 'failed', 'interrupted')",
            name=op.f("ck_sync_run_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    op.create_index("ix_sync_run_started_at", "sync_run", ["started_at"], unique=False)
    op.create_index(
        "ix_sync_run_status_started_at", "sync_run", ["status", "started_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_sync_run_status_started_at", table_name="sync_run")
    op.drop_index("ix_sync_run_started_at", table_name="sync_run")
    op.drop_table("sync_run")
