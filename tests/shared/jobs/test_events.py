"""Live events: job updates and training metrics reach async subscribers, in-process and through Redis."""

from __future__ import annotations

import asyncio

import pytest
from support.fixtures import use_settings

from shared.jobs.events import (
    JobEvent,
    LocalBus,
    MetricsEvent,
    RedisBus,
    get_bus,
    job_channel,
    metrics_channel,
    publish_job,
    publish_metrics,
    subscribe_job,
    subscribe_jobs,
    subscribe_metrics,
)

pytestmark = pytest.mark.services


def _job(job_id: str, progress: float) -> JobEvent:
    return JobEvent(
        job_id=job_id, kind="train", status="running", progress=progress, message=f"{progress:.0%}"
    )


async def _collect(stream, n: int, ready: asyncio.Event) -> list:  # noqa: ANN001
    out = []
    it = stream.__aiter__()
    first = asyncio.ensure_future(it.__anext__())
    await asyncio.sleep(0)  # let the subscription register before the publisher starts
    ready.set()
    out.append(await asyncio.wait_for(first, 10))
    while len(out) < n:
        out.append(await asyncio.wait_for(it.__anext__(), 10))
    await it.aclose()
    return out


async def _until_subscribed(bus, channel: str) -> None:  # noqa: ANN001
    for _ in range(200):
        if isinstance(bus, LocalBus):
            if bus.subscriber_count(channel):
                return
        else:
            counts = dict(bus._client.pubsub_numsub(channel))
            if counts.get(channel.encode(), 0):
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nobody subscribed to {channel}")


@pytest.mark.parametrize("transport", ["local", "redis"])
def test_job_and_metrics_events_reach_subscribers(
    transport: str, monkeypatch: pytest.MonkeyPatch, request
) -> None:  # noqa: ANN001
    if transport == "redis":
        use_settings(monkeypatch, broker_url=request.getfixturevalue("redis_server").url)
    else:
        use_settings(monkeypatch, broker_url="")
    bus = get_bus()
    assert isinstance(bus, RedisBus if transport == "redis" else LocalBus)

    async def scenario() -> tuple[list, list, list]:
        ready = [asyncio.Event() for _ in range(3)]
        one = asyncio.create_task(_collect(subscribe_job("j1"), 3, ready[0]))
        every = asyncio.create_task(_collect(subscribe_jobs(), 4, ready[1]))
        curves = asyncio.create_task(_collect(subscribe_metrics("r1"), 2, ready[2]))
        await asyncio.gather(*(r.wait() for r in ready))
        for ch in (job_channel("j1"), "saelab:jobs", metrics_channel("r1")):
            await _until_subscribed(bus, ch)

        # published from another thread, as a worker would
        def publish() -> None:
            for i in range(3):
                publish_job(_job("j1", i / 2))
            publish_job(_job("j2", 1.0))
            publish_metrics("r1", 10, {"loss": 1.5, "l0": 12, "note": "text", "bad": float("nan")})
            publish_metrics("r1", 20, {"loss": 1.2})

        await asyncio.to_thread(publish)
        return await one, await every, await curves

    one, every, curves = asyncio.run(scenario())
    assert [e.progress for e in one] == [0.0, 0.5, 1.0] and all(e.job_id == "j1" for e in one)
    assert [e.job_id for e in every] == ["j1", "j1", "j1", "j2"]
    assert all(isinstance(e, MetricsEvent) for e in curves)
    assert curves[0].step == 10 and curves[0].values == {"loss": 1.5, "l0": 12.0}
    assert curves[1].values == {"loss": 1.2}


def test_publishing_without_a_reachable_redis_does_not_raise(monkeypatch: pytest.MonkeyPatch, caplog) -> None:  # noqa: ANN001
    use_settings(monkeypatch, broker_url="redis://127.0.0.1:1/0")
    publish_job(_job("j3", 0.5))
    assert any("could not publish" in r.message for r in caplog.records)
