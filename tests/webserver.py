"""A small web server on 127.0.0.1 whose pages and misbehaviour a test chooses.

Each path answers with a ``Route``: a body with a content type, a status (with headers such as
Retry-After), a redirect, a delay, a hang or a slow drip; a list of routes is served in turn
(the last one repeats), and ETag/Last-Modified make conditional requests answer 304.
Requests are recorded. ``serve_web()`` runs it in a thread for the length of a ``with`` block.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Kind = Literal["body", "hang", "drip", "endless"]


@dataclass
class Route:
    """What one path answers."""

    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    kind: Kind = "body"
    delay: float = 0.0  # seconds before answering
    etag: str | None = None  # answer 304 to a matching If-None-Match
    last_modified: str | None = None  # answer 304 to a matching If-Modified-Since
    gzip: bool = False


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    time: float
    status: int = 0


class WebServer:
    """The server; use ``serve_web()``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, list[Route]] = {}
        self.requests: list[Request] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.httpd = _Server((host, 0), _handler(self))
        self.url = f"http://{host}:{self.httpd.server_address[1]}"

    def add(self, path: str, *routes: Route) -> str:
        """Serve routes at path (in turn, the last repeating); returns the full URL."""
        self.routes[path] = list(routes)
        return self.url + path

    def page(self, path: str, body: bytes | str, **kw: Any) -> str:
        return self.add(path, Route(body=body, **kw))

    def hits(self, path: str) -> list[Request]:
        """Requests for a path (query included in ``path``)."""
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]

    def next(self, path: str) -> Route | None:
        with self.lock:
            routes = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
            if not routes:
                return None
            return routes.pop(0) if len(routes) > 1 else routes[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that give up mid-reply are what these tests are about."""


def _handler(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            record = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, 0.0)
            record.time = time.monotonic()
            with server.lock:
                server.requests.append(record)
            route = server.next(self.path)
            if route is None:
                record.status = 404
                self._send(404, b"not found", "text/plain", {})
                return
            if route.delay and server.stop.wait(route.delay):
                return
            if route.kind == "hang":  # nothing at all until the test ends
                server.stop.wait(60)
                return
            body = route.body.encode() if isinstance(route.body, str) else route.body
            headers = dict(route.headers)
            if route.etag:
                headers["ETag"] = route.etag
            if route.last_modified:
                headers["Last-Modified"] = route.last_modified
            if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
            ):
                record.status = 304
                self._send(304, b"", None, headers)
                return
            record.status = route.status
            if route.kind in ("drip", "endless"):
                self._drip(route, body)
                return
            if route.gzip:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            self._send(route.status, body, route.content_type, headers)

        def _send(
            self, status: int, body: bytes, ctype: str | None, headers: dict[str, str]
        ) -> None:
            try:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
            except OSError:
                pass

        def _drip(self, route: Route, body: bytes) -> None:
            """drip: the body a few bytes every 0.1 s; endless: 1 MB pieces without end."""
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = body or b"x"
                while not server.stop.is_set():
                    data = piece[:8] if route.kind == "drip" else piece * (2**20 // len(piece))
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    if route.kind == "drip":
                        server.stop.wait(0.1)
            except OSError:
                pass

    return Handler


@contextmanager
def serve_web(host: str = "127.0.0.1") -> Iterator[WebServer]:
    """Run a web server in a thread until the block ends."""
    server = WebServer(host)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)
