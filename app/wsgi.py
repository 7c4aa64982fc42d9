"""WSGI entry point for gunicorn: ``gunicorn app.wsgi:app``."""

from app import create_app
from app.jobs import start_embedded_scheduler

app = create_app()
start_embedded_scheduler(app)
