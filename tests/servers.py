"""Real servers on loopback for end-to-end tests, and the ``rag`` command as a subprocess.

``chroma_server`` runs ``chroma run``; ``llama_server`` runs llama.cpp's OpenAI-compatible
server. Each binds 127.0.0.1 on a free port, waits (bounded) until it answers, yields its URL
and is always stopped. Subprocesses inherit ``os.environ`` (set per test by conftest.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent  # the venv's scripts: chroma, rag
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with _direct.open(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serve(command: list[str], ready_url: str, wait: float = 60.0) -> Iterator[None]:
    """Run a server until the block ends; fail with its output if it is not ready in time."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + wait
            while not _answers(ready_url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-4000:]
                    pytest.fail(
                        f"{' '.join(command[:4])} not ready within {wait:g} s "
                        f"(exit code {proc.poll()}):\n{output}",
                        pytrace=False,
                    )
                time.sleep(0.2)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """``chroma run`` on a free loopback port, persisting under tmp_path; yields its URL."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    command = [str(BIN / "chroma"), "run", "--path", str(tmp_path / "chroma-server")]
    with serve([*command, "--host", HOST, "--port", str(port)], f"{url}/api/v2/heartbeat"):
        yield url


@contextmanager
def llama_server(model_path: Path) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server for a GGUF on a free loopback port; yields .../v1."""
    port = free_port()
    base = f"http://{HOST}:{port}/v1"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path)]
    command += ["--host", HOST, "--port", str(port), "--n_ctx", "4096"]
    threads = str(os.cpu_count() or 1)  # the default (half the cores) is 5x slower on prompts
    command += ["--n_threads", threads, "--n_threads_batch", threads]
    with serve(command, f"{base}/models"):
        yield base


def rag(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the installed ``rag`` command; output captured as text."""
    return subprocess.run(
        [str(BIN / "rag"), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
