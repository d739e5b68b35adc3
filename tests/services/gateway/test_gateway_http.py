"""The app behind a real uvicorn server: HTTP GraphQL, auth header, CORS, health, the web client, and
subscriptions over websockets (graphql-transport-ws) fed by live events."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_support import TOKEN, Seeded, Server, make_state, serve_in_thread, use_database
from websockets.sync.client import ClientConnection, connect

from shared.jobs import events

JOB_UPDATES = "subscription($id: ID) { jobUpdates(jobId: $id) { id status progress stage message } }"
METRICS = "subscription($run: ID!) { trainingMetrics(runId: $run) { runId step loss l0 values } }"


def post(
    server: Server, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{server.url}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_health_and_queries_over_http(server: Server, seeded: Seeded) -> None:
    health = httpx.get(f"{server.url}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "mode": "embedded"}
    body = post(server, "query($r: ID!) { run(id: $r) { name featureCount } }", {"r": seeded.run_id})
    assert body == {"data": {"run": {"name": "seeded run", "featureCount": 30}}}


def test_mutations_need_the_bearer_header(server: Server, seeded: Seeded) -> None:
    q = "mutation($id: ID!) { cancelJob(id: $id) { status } }"
    body = post(server, q, {"id": seeded.job_ids[0]})
    assert (
        body["data"] == {"cancelJob": None} and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    )
    body = post(server, q, {"id": seeded.job_ids[0]}, token="nope")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert post(server, q, {"id": seeded.job_ids[0]}, token=TOKEN) == {
        "data": {"cancelJob": {"status": "SUCCEEDED"}}
    }


def test_errors_over_http_carry_codes_and_no_internals(server: Server) -> None:
    body = post(server, '{ features(runId: "nope") { totalCount } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND" and "traceback" not in json.dumps(body).lower()
    assert set(error) <= {"message", "locations", "path", "extensions"}


def test_cors_allows_the_dev_server_origin_only(server: Server) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{server.url}/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )

    ok = preflight("http://localhost:5173")
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://localhost:5173"
    bad = preflight("http://evil.example")
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers


def test_web_client_is_served_with_spa_fallback(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from services.gateway.app import create_app

    use_database(monkeypatch, seeded)
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>saelab</html>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    uv, thread, port = serve_in_thread(
        create_app(state=make_state(seeded, web_dist=dist), start_worker=False)
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/").text == "<html>saelab</html>"
        assert httpx.get(f"{base}/features/3").text == "<html>saelab</html>"  # a client-side route
        assert httpx.get(f"{base}/assets/app.js").text == "console.log(1)"
        assert httpx.get(f"{base}/assets/missing.js").status_code == 404
        escape = httpx.get(f"{base}/..%2Fsecret.txt")
        assert escape.status_code == 404 and "TOP-SECRET" not in escape.text
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


def test_without_a_built_client_the_root_says_how_to_build_it(server: Server, tmp_path: Path) -> None:
    server.state.settings.web_dist = tmp_path / "nothing"
    # the route captured the path at app creation; a fresh app is what a user gets
    from services.gateway.app import create_app

    uv, thread, port = serve_in_thread(create_app(state=server.state, start_worker=False))
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/")
        assert response.status_code == 404 and "not built" in response.json()["error"]
        # the command it names exists: `make <target>` is a rule of the repository's Makefile
        target = re.search(r"`make ([\w-]+)`", response.json()["error"])
        assert target is not None, response.json()["error"]
        repo = Path(__file__).resolve().parents[3]
        dry = subprocess.run(["make", "-n", "-C", str(repo), target[1]], capture_output=True, text=True)
        assert dry.returncode == 0 and "npm run build" in dry.stdout, dry.stderr
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


# --------------------------------------------------------------------------------------------------------------
# Subscriptions
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def ws(server: Server) -> Iterator[ClientConnection]:
    with connect(server.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as conn:
        yield conn


def init(conn: ClientConnection, payload: dict[str, Any] | None = None) -> None:
    conn.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    assert json.loads(conn.recv(timeout=10))["type"] == "connection_ack"


def subscribe(conn: ClientConnection, query: str, variables: dict[str, Any], op: str = "1") -> None:
    conn.send(
        json.dumps({"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}})
    )


def receive(conn: ClientConnection) -> dict[str, Any]:
    while True:
        message = json.loads(conn.recv(timeout=10))
        if message["type"] != "ping":
            return message


def wait_for_subscriber(channel: str) -> None:
    bus = events.get_bus()
    assert isinstance(bus, events.LocalBus)
    deadline = time.monotonic() + 10
    while bus.subscriber_count(channel) == 0:
        assert time.monotonic() < deadline, f"nobody subscribed to {channel}"
        time.sleep(0.01)


def test_job_updates_start_with_the_current_state_and_end_when_the_job_does(
    ws: ClientConnection, seeded: Seeded
) -> None:
    init(ws)
    subscribe(ws, JOB_UPDATES, {"id": seeded.queued_job_id})
    first = receive(ws)
    assert first["type"] == "next" and first["payload"]["data"]["jobUpdates"]["status"] == "QUEUED"
    wait_for_subscriber(events.job_channel(seeded.queued_job_id))
    base = {"job_id": seeded.queued_job_id, "kind": "analyse", "run_id": seeded.pending_run_id}
    events.publish_job(
        events.JobEvent(**base, status="running", progress=0.5, stage="analyse", message="half")
    )
    update = receive(ws)["payload"]["data"]["jobUpdates"]
    assert update == {
        "id": seeded.queued_job_id,
        "status": "RUNNING",
        "progress": 0.5,
        "stage": "analyse",
        "message": "half",
    }
    events.publish_job(events.JobEvent(**base, status="succeeded", progress=1.0, message="done"))
    assert receive(ws)["payload"]["data"]["jobUpdates"]["status"] == "SUCCEEDED"
    assert receive(ws) == {"id": "1", "type": "complete"}


def test_training_metrics_stream_each_logged_step(ws: ClientConnection, seeded: Seeded) -> None:
    init(ws)
    subscribe(ws, METRICS, {"run": seeded.run_id})
    wait_for_subscriber(events.metrics_channel(seeded.run_id))
    for step in (25, 50):
        events.publish_metrics(seeded.run_id, step, {"step": step, "loss": 1.0 / step, "l0": 3.0, "lr": 4e-4})
        point = receive(ws)["payload"]["data"]["trainingMetrics"]
        assert (
            point["runId"] == seeded.run_id
            and point["step"] == step
            and point["loss"] == pytest.approx(1 / step)
        )
        assert point["values"]["lr"] == pytest.approx(4e-4)
    for step in (25, 50, 75):  # a resumed run re-logging steps this client already has: only 75 is new
        events.publish_metrics(seeded.run_id, step, {"step": step, "loss": 2.0, "l0": 3.0, "lr": 4e-4})
    assert receive(ws)["payload"]["data"]["trainingMetrics"]["step"] == 75
    ws.send(json.dumps({"id": "1", "type": "complete"}))


def test_subscription_errors_have_codes(ws: ClientConnection) -> None:
    init(ws)
    subscribe(ws, JOB_UPDATES, {"id": "missing"})
    message = receive(ws)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


def test_private_subscriptions_take_the_token_in_connection_init(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.gateway.app import create_app

    use_database(monkeypatch, seeded)
    uv, thread, port = serve_in_thread(
        create_app(state=make_state(seeded, public_queries=False), start_worker=False)
    )
    url = f"ws://127.0.0.1:{port}/graphql"
    try:
        with connect(url, subprotocols=["graphql-transport-ws"]) as conn:
            init(conn)
            subscribe(conn, JOB_UPDATES, {"id": seeded.queued_job_id})
            message = receive(conn)
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
        with connect(url, subprotocols=["graphql-transport-ws"]) as conn:
            init(conn, {"Authorization": f"Bearer {TOKEN}"})
            subscribe(conn, JOB_UPDATES, {"id": seeded.queued_job_id})
            assert receive(conn)["payload"]["data"]["jobUpdates"]["status"] == "QUEUED"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
