"""A fake OpenAI-compatible chat server on 127.0.0.1 whose misbehaviour a test chooses.

``/v1/chat/completions`` answers every request with the next ``Behaviour`` queued by the
test (or the default one): a streamed reply, an HTTP error, a stream that hangs, trickles
forever or is cut off, or raw server-sent-event lines. ``/v1/embeddings`` returns
deterministic bag-of-words vectors (or a queued HTTP error). Requests are recorded.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Kind = Literal["reply", "status", "hang", "trickle", "cut", "raw"]


@dataclass
class Behaviour:
    """What the server does with one request."""

    kind: Kind = "reply"
    # reply, trickle, cut: content to stream (grounded in the seed article the tests ask about)
    text: str = "The Kremlin denied any interference. [1]"
    status: int = 200  # status: the HTTP status
    headers: dict[str, str] = field(default_factory=dict)  # status: extra headers
    events: list[str] = field(default_factory=list)  # raw: data lines, sent as given


def chunk(content: Any, finish: str | None = None) -> str:
    """One chat.completion.chunk event carrying ``content``."""
    delta = {} if content is None else {"content": content}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return json.dumps(body)


def embedding(text: str, dim: int = 16) -> list[float]:
    """A deterministic bag-of-words vector (not normalised: the client must do that)."""
    vector = [0.0] * dim
    for word in text.lower().split():
        vector[int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % dim] += 2.0
    return vector


class FakeOpenAI:
    """The server; use ``serve_fake_openai()``."""

    def __init__(self) -> None:
        self.queue: deque[Behaviour] = deque()
        self.default = Behaviour()
        self.requests: list[dict[str, Any]] = []
        self.stop = threading.Event()
        self.httpd = _Server(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def then(self, *behaviours: Behaviour) -> FakeOpenAI:
        """Queue behaviours for the next requests, in order."""
        self.queue.extend(behaviours)
        return self

    def next(self) -> Behaviour:
        return self.queue.popleft() if self.queue else self.default


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that give up mid-reply are what these tests are about."""


def _handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append(
                {
                    "path": self.path,
                    "body": body,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "time": time.monotonic(),
                }
            )
            if not self.path.endswith(("/chat/completions", "/embeddings")):
                self._json(404, {"error": {"message": "not found"}})
                return
            b = server.next()
            if b.kind == "status":
                self._json(b.status, {"error": {"message": f"fake {b.status}"}}, b.headers)
                return
            if self.path.endswith("/embeddings"):
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [
                    {"object": "embedding", "index": i, "embedding": embedding(text)}
                    for i, text in enumerate(inputs)
                ]
                self._json(200, {"object": "list", "data": data, "model": body["model"],
                                 "usage": {"prompt_tokens": 0, "total_tokens": 0}})  # fmt: skip
                return
            self._start_stream()
            if b.kind == "reply":
                for word in _pieces(b.text):
                    self._event(chunk(word))
                self._event(chunk(None, "stop"))
                self._event("[DONE]")
                self._end()
            elif b.kind == "raw":
                for line in b.events:
                    self._event(line)
                self._end()
            elif b.kind == "hang":  # headers, then nothing until the test ends
                server.stop.wait(120)
            elif b.kind == "trickle":  # a token every 0.2 s, never finishing
                while not server.stop.wait(0.2):
                    if not self._event(chunk(b.text + " ")):
                        break
            elif b.kind == "cut":  # half the reply, half an event, then the connection drops
                words = _pieces(b.text)
                for word in words[: len(words) // 2]:
                    self._event(chunk(word))
                self._write(b'40\r\ndata: {"id": "chatcmpl-fake", "choi')
                self.close_connection = True

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _start_stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _event(self, data: str) -> bool:
            raw = f"data: {data}\n\n".encode()
            return self._write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")

        def _end(self) -> None:
            self._write(b"0\r\n\r\n")

        def _write(self, raw: bytes) -> bool:
            try:
                self.wfile.write(raw)
                self.wfile.flush()
            except OSError:  # the client gave up
                return False
            return True

    return Handler


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


@contextmanager
def serve_fake_openai() -> Iterator[FakeOpenAI]:
    """Run the fake server in a thread until the block ends."""
    server = FakeOpenAI()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)
