"""The schema comes only from migrations, and the migrations match the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from aura import MIGRATIONS_DIR, create_app
from aura.extensions import db as _db
from aura.models.base import include_object
from tests.conftest import _test_settings


def test_models_and_migrations_agree(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "a model changed without a migration: run `aura db migrate`"


def test_migrations_go_down_and_up_again(tmp_path):
    settings = {
        **_test_settings(str(tmp_path)),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/roundtrip.sqlite3",
    }
    app = create_app(settings)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        downgrade(directory=MIGRATIONS_DIR, revision="base")
        assert sa.inspect(_db.engine).get_table_names() == ["alembic_version"]
        upgrade(directory=MIGRATIONS_DIR)
        assert "movie_fts" in sa.inspect(_db.engine).get_table_names()
        _db.engine.dispose()
