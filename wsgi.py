"""WSGI entry point: ``flask run`` finds ``app`` here; waitress and other servers can too."""

from aura import create_app

app = create_app()
