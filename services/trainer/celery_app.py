"""Celery app of the trainer service (the GPU queue): ``celery -A services.trainer.celery_app worker -Q trainer``."""

from shared.jobs.celery_app import make_celery_app

app = make_celery_app(
    "saelab-trainer",
    include=["services.trainer.tasks"],
    preload=["services.trainer.run", "services.trainer.evaluate"],
)
