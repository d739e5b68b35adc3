"""The job system: task contracts, the two worker runtimes (Celery, embedded), job lifecycle, reaper, pipelines, events.

Modules, each importing only those listed before it: ``contracts`` (task names, queues, id-only payloads,
``enqueue`` by name), ``events`` (live job and metric events), ``errors`` (transient or permanent, backoff),
``lifecycle`` (``execute_job``: claim, heartbeat, progress, finish, next stage), ``reaper`` (jobs whose worker
vanished), ``pipelines`` (submit, cancel, wait), ``celery_app`` (a service's Celery app and task body),
``embedded`` (the in-process worker). Nothing here imports a service: the embedded worker finds each task body by
module name when it first runs it.
"""
