"""The viewer's diary (films watched, by day, logged by the player or by hand) and video
captions (WebVTT files in the media folder, one per language).

Both are new tables, so no batch operation is needed on SQLite; the same statements run on
PostgreSQL.

Revision ID: 0007_viewer_library
Revises: 0005_tmdb_sync
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0007_viewer_library"
down_revision = "0005_tmdb_sync"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "diary_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("watched_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("source IN ('playback', 'manual')", name=op.f("ck_diary_entry_source")),
        sa.ForeignKeyConstraint(
            ["movie_id"], ["movie.id"], name=op.f("fk_diary_entry_movie_id_movie"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_diary_entry_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entry")),
        sa.UniqueConstraint(
            "user_id", "movie_id", "watched_on", name="uq_diary_entry_user_movie_day"
        ),
    )
    op.create_index("ix_diary_entry_user_watched", "diary_entry", ["user_id", "watched_on", "id"])
    op.create_index(op.f("ix_diary_entry_movie_id"), "diary_entry", ["movie_id"])

    op.create_table(
        "caption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"], ["video.id"], name=op.f("fk_caption_video_id_video"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caption")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_caption_storage_key")),
    )
    op.create_index(op.f("ix_caption_video_id"), "caption", ["video_id"])


def downgrade():
    op.drop_index(op.f("ix_caption_video_id"), table_name="caption")
    op.drop_table("caption")
    op.drop_index(op.f("ix_diary_entry_movie_id"), table_name="diary_entry")
    op.drop_index("ix_diary_entry_user_watched", table_name="diary_entry")
    op.drop_table("diary_entry")
