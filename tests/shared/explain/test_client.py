"""The chat-completions client over real HTTP: answers, retries with backoff on 429/5xx, named errors, a key that
never shows. The endpoint is a scripted stdlib server on a free port (the real model's server is in
tests/services/analyser/test_explain_real_model.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from shared.explain.client import (
    BadApiKey,
    ChatClient,
    EndpointError,
    EndpointUnreachable,
    NotConfigured,
    UnknownModel,
)
from shared.settings import Settings

KEY = "sk-test-very-secret-0123"
OK = {"choices": [{"message": {"role": "assistant", "content": "[1, 0]"}}], "usage": {"prompt_tokens": 12}}


class Scripted:
    """Answers requests from a script of (status, body, headers); records each request."""

    def __init__(self, script: list[tuple[int, Any, dict[str, str]]]) -> None:
        self.script, self.requests = list(script), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                status, answer, headers = outer.script.pop(0) if outer.script else (200, OK, {})
                raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def client(self, **kw: Any) -> ChatClient:
        waits: list[float] = []
        c = ChatClient(
            f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/",
            "m1",
            SecretStr(KEY),
            sleep=waits.append,
            **kw,
        )
        c.waits = waits  # type: ignore[attr-defined]
        return c


@pytest.fixture
def serve() -> Iterator[Any]:
    made: list[Scripted] = []

    def make(*script: tuple[int, Any, dict[str, str]]) -> Scripted:
        made.append(Scripted(list(script)))
        return made[-1]

    yield make
    for s in made:
        s.httpd.shutdown()
        s.httpd.server_close()


def _err(message: str) -> dict[str, Any]:
    return {"error": {"message": message}}


def test_a_completion_posts_the_openai_body_with_the_key_as_bearer(serve: Any) -> None:
    server = serve()
    done = server.client(max_tokens=7).complete([{"role": "user", "content": "hi"}])
    assert (done.text, done.prompt_tokens, done.completion_tokens) == ("[1, 0]", 12, None)
    path, headers, body = server.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert body == {
        "model": "m1",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 7,
        "temperature": 0.0,
    }


def test_rate_limits_and_server_errors_are_retried_with_growing_waits(serve: Any) -> None:
    server = serve(
        (429, _err("slow down"), {"Retry-After": "3"}), (503, _err("busy"), {}), (500, b"oops", {})
    )
    client = server.client(backoff=0.5)
    assert client.complete([{"role": "user", "content": "x"}]).text == "[1, 0]"
    assert len(server.requests) == 4
    assert client.waits == [3.0, 1.0, 2.0]  # type: ignore[attr-defined]  # Retry-After, then 0.5 doubled twice


def test_errors_that_persist_are_named_after_the_retries(serve: Any) -> None:
    server = serve(*[(502, _err("bad gateway"), {})] * 3)
    with pytest.raises(EndpointError, match="HTTP 502: bad gateway"):
        server.client(retries=2).complete([])
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("status", "body", "error", "says"),
    [
        (401, _err("Incorrect API key provided"), BadApiKey, "SAELAB_EXPLAINER_API_KEY"),
        (403, _err("forbidden"), BadApiKey, "HTTP 403"),
        (404, _err("The model `m1` does not exist"), UnknownModel, "SAELAB_EXPLAINER_MODEL"),
        (400, _err("invalid model ID"), UnknownModel, "'m1'"),
        (404, b"Not Found", EndpointError, "ends in /v1"),
        (400, _err("max_tokens too large"), EndpointError, "HTTP 400"),
        (200, b"<html>", EndpointError, "not JSON"),
        (200, {"choices": []}, EndpointError, "not a chat completion"),
    ],
)
def test_refusals_are_named_at_once_and_never_show_the_key(
    serve: Any, status: int, body: Any, error: type[Exception], says: str
) -> None:
    server = serve((status, body, {}))
    client = server.client()
    with pytest.raises(error, match=says) as caught:
        client.complete([])
    assert len(server.requests) == 1  # not retried
    assert KEY not in str(caught.value) and KEY not in repr(client)


def test_an_endpoint_nobody_listens_on_is_unreachable_after_the_retries(serve: Any) -> None:
    server = serve()
    port = server.httpd.server_address[1]
    server.httpd.shutdown()
    server.httpd.server_close()
    waits: list[float] = []
    client = ChatClient(f"http://127.0.0.1:{port}/v1", "m1", retries=2, backoff=0.01, sleep=waits.append)
    with pytest.raises(EndpointUnreachable, match="unreachable"):
        client.complete([])
    assert waits == [0.01, 0.02]


def test_settings_configure_the_client_and_an_empty_one_says_what_to_set() -> None:
    with pytest.raises(NotConfigured, match="SAELAB_EXPLAINER_BASE_URL"):
        ChatClient.from_settings(Settings())
    s = Settings(
        explainer_base_url="http://h/v1", explainer_model="m", explainer_api_key=KEY, explainer_timeout=5
    )
    client = ChatClient.from_settings(s)
    assert (client.url, client.model, client.timeout) == ("http://h/v1/chat/completions", "m", 5)
    assert KEY not in repr(client) and KEY not in repr(s) and KEY not in str(s.redacted())
