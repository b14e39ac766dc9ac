"""Child processes that end with the process that forked them."""

from __future__ import annotations

import os
import threading
import time


def follow_parent(parent: int) -> None:
    """In a forked worker: end it when ``parent`` is gone (a SIGKILL of the parent runs no
    cleanup, and a worker left behind would hold its pipe and memory)."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)
