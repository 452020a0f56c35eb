"""The video library: each video's duration, and indexes for its newest, most viewed and title
orders.

Durations of videos stored before this revision are read from their files by
`aura videos durations` (the migration does not open media files).

Revision ID: 0008_video_library
Revises: 0007_viewer_library
Create Date: 2026-12-08 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0008_video_library"
down_revision = "0007_viewer_library"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("video", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duration_seconds", sa.Double(), nullable=True))
        batch_op.create_index("ix_video_uploaded", ["uploaded_at", "id"], unique=False)
        batch_op.create_index("ix_video_views", ["view_count", "id"], unique=False)
    op.create_index("ix_video_title", "video", [sa.text("lower(title)"), "id"], unique=False)


def downgrade():
    op.drop_index("ix_video_title", table_name="video")
    with op.batch_alter_table("video", schema=None) as batch_op:
        batch_op.drop_index("ix_video_views")
        batch_op.drop_index("ix_video_uploaded")
        batch_op.drop_column("duration_seconds")
