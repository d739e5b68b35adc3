"""Celery app of the analyser service: ``celery -A services.analyser.celery_app worker -Q analyser``."""

from shared.jobs.celery_app import make_celery_app

app = make_celery_app(
    "saelab-analyser",
    include=["services.analyser.tasks", "services.analyser.explain_task"],
    preload=["services.analyser.analyse"],
)
