"""A real OpenAI-compatible chat-completions server for tests: the packaged SmolLM2-135M-Instruct, greedy.

``POST /v1/chat/completions`` applies the model's chat template to ``messages``, generates greedily (at most
``max_tokens``, capped by ``--max-tokens``) and answers in the OpenAI shape with token usage; ``GET /v1/models``
lists the one model. An unknown ``model`` gets 404 "model ... does not exist", a wrong bearer key (when the server
has one) 401, as hosted endpoints answer. Generation is serialised (one model, CPU). It binds a free port.

Run alone (the e2e gateway uses it): ``python -m tests.support.chat_server`` prints ``{"base_url": ..., "model":
...}`` on its first line once it serves, then serves until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "smollm2-135m-instruct"
"""The model name clients must ask for."""


class SmolChat:
    """The packaged SmolLM2-135M-Instruct, loaded the project's way (GGUF through transformers)."""

    def __init__(self, cap: int = 64) -> None:
        import torch

        from shared.lm.load import load_hf

        torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
        self.model, self.tokenizer = load_hf("smollm2", None, torch.float32)
        self.model.eval()
        self.cap = cap
        self.lock = threading.Lock()

    def generate(self, messages: list[dict[str, str]], max_tokens: int) -> tuple[str, int, int]:
        """(text, prompt tokens, completion tokens) of a greedy answer to ``messages``."""
        import torch

        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
        if not isinstance(ids, torch.Tensor):  # newer tokenizers return a BatchEncoding
            ids = ids["input_ids"]
        with self.lock, torch.inference_mode():
            out = self.model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max(1, min(max_tokens, self.cap)),
                do_sample=False,
                pad_token_id=self.tokenizer.eos_token_id,
            )
        new = out[0, ids.shape[1] :]
        return self.tokenizer.decode(new, skip_special_tokens=True), int(ids.shape[1]), int(new.shape[0])


def _handler(chat: SmolChat, api_key: str, calls: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, status: int, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]})
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._error(404, f"no route {self.path}")
            if api_key and self.headers.get("Authorization") != f"Bearer {api_key}":
                return self._error(401, "Incorrect API key provided")
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in body["messages"]]
            except (ValueError, KeyError, TypeError) as err:
                return self._error(400, f"bad request: {err}")
            if body.get("model") != MODEL_ID:
                return self._error(404, f"The model `{body.get('model')}` does not exist")
            text, n_prompt, n_new = chat.generate(messages, int(body.get("max_tokens") or chat.cap))
            calls.append({"messages": messages, "answer": text})
            self._send(
                200,
                {
                    "id": f"chatcmpl-{len(calls)}",
                    "object": "chat.completion",
                    "model": MODEL_ID,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": n_prompt,
                        "completion_tokens": n_new,
                        "total_tokens": n_prompt + n_new,
                    },
                },
            )

    return Handler


class ChatServer:
    """The server on a free port of 127.0.0.1, in a thread; ``calls`` records every answered request."""

    def __init__(self, chat: SmolChat, api_key: str = "") -> None:
        self.calls: list[dict[str, Any]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(chat, api_key, self.calls))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="chat-server")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=48, help="cap on generated tokens per answer")
    parser.add_argument("--api-key", default="", help="bearer key to require (default: none)")
    args = parser.parse_args(argv)
    with ChatServer(SmolChat(args.max_tokens), args.api_key) as server:
        print(json.dumps({"base_url": server.base_url, "model": MODEL_ID}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
