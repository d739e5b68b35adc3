"""The job system: task contracts, the two worker runtimes (Celery, embedded), job lifecycle, reaper, pipelines, events."""
