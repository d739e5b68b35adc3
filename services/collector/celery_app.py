"""Celery app of the collector service: ``celery -A services.collector.celery_app worker -Q collector``."""

from shared.jobs.celery_app import make_celery_app

app = make_celery_app(
    "saelab-collector",
    include=["services.collector.tasks", "services.collector.import_task"],
    preload=["services.collector.collect"],
)
