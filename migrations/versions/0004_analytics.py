"""Analytics rollups (per hour and day, kept as views arrive), daily visitor de-duplication
with daily salts, scheduled-job claims, review moderation reasons, one-time password resets,
and the indexes the supervisor's pages filter by.

Revision ID: 0004_analytics
Revises: 0003_sign_in_rows
Create Date: 2026-12-01 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_analytics'
down_revision = '0003_sign_in_rows'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('daily_visit',
    sa.Column('subject', sa.String(length=48), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitor', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'day', 'visitor', name=op.f('pk_daily_visit'))
    )
    op.create_table('job_run',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=200), nullable=True),
    sa.Column('state', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_run'))
    )
    op.create_table('traffic_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_traffic_day'))
    )
    op.create_table('traffic_hour',
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('plays', sa.Integer(), nullable=False),
    sa.Column('bots', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', name=op.f('pk_traffic_hour'))
    )
    op.create_table('visitor_salt',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_visitor_salt'))
    )
    op.create_table('password_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_password_reset_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_password_reset_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_token_hash'))
    )
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_password_reset_user_id'), ['user_id'], unique=False)

    op.create_table('film_hour',
    sa.Column('movie_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('plays', sa.Integer(), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['movie_id'], ['movie.id'], name=op.f('fk_film_hour_movie_id_movie'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('movie_id', 'hour', name=op.f('pk_film_hour'))
    )
    with op.batch_alter_table('film_hour', schema=None) as batch_op:
        batch_op.create_index('ix_film_hour_hour', ['hour'], unique=False)

    op.create_table('video_hour',
    sa.Column('video_id', sa.Uuid(), nullable=False),
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('plays', sa.Integer(), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['video_id'], ['video.id'], name=op.f('fk_video_hour_video_id_video'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('video_id', 'hour', name=op.f('pk_video_hour'))
    )
    with op.batch_alter_table('video_hour', schema=None) as batch_op:
        batch_op.create_index('ix_video_hour_hour', ['hour'], unique=False)

    with op.batch_alter_table('access_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_grant_last_used_at'), ['last_used_at'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_actor_at', ['actor_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_target_at', ['target', 'at'], unique=False)

    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_reason', sa.String(length=500), nullable=True))
        batch_op.create_index('ix_rating_created', ['created_at', 'id'], unique=False)

    with op.batch_alter_table('view', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('bot', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade():
    with op.batch_alter_table('view', schema=None) as batch_op:
        batch_op.drop_column('bot')
        batch_op.drop_column('visitor')

    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_created')
        batch_op.drop_column('hidden_reason')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_target_at')
        batch_op.drop_index('ix_audit_event_actor_at')

    with op.batch_alter_table('access_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_grant_last_used_at'))

    with op.batch_alter_table('video_hour', schema=None) as batch_op:
        batch_op.drop_index('ix_video_hour_hour')

    op.drop_table('video_hour')
    with op.batch_alter_table('film_hour', schema=None) as batch_op:
        batch_op.drop_index('ix_film_hour_hour')

    op.drop_table('film_hour')
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_user_id'))
        batch_op.drop_index(batch_op.f('ix_password_reset_expires_at'))

    op.drop_table('password_reset')
    op.drop_table('visitor_salt')
    op.drop_table('traffic_hour')
    op.drop_table('traffic_day')
    op.drop_table('job_run')
    op.drop_table('daily_visit')
