"""Stores on read-only mounts: telling a read-only data dir apart, and reading it anyway.

Chroma writes to its SQLite file whenever it opens one (journal mode, its default tenant),
and rewrites files of its vector segments when it loads them, so a store on a read-only
mount (a shared volume) cannot be opened where it is. Reading commands open a private
snapshot instead: a copy of the whole store folder in a temporary folder, removed when the
process ends. The copy costs time and temporary disk in proportion to the store (about
2 s for the 850 MB newsqa store). Writing commands refuse a read-only data dir in one line.
"""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import tempfile
from pathlib import Path

from rag.errors import StoreError

READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
SQLITE = "chroma.sqlite3"


def is_read_only_error(exc: BaseException) -> bool:
    """True for an OS error or a Chroma/SQLite message that means 'this cannot be written'."""
    if isinstance(exc, OSError) and exc.errno in READ_ONLY_ERRNOS:
        return True
    text = str(exc).lower()
    return "readonly database" in text or "read-only file system" in text


def writable(folder: Path) -> bool:
    """True when this process may create and change files in ``folder`` and its store file
    (``os.access`` also answers False on a read-only mount, even for root)."""
    sqlite = folder / SQLITE
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return not sqlite.exists() or os.access(sqlite, os.W_OK)


def read_only_refusal(data_dir: Path, exc: BaseException) -> StoreError:
    """The one-line error of a write to a read-only data dir."""
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "read-only"
    return StoreError(
        f"cannot write to the data dir {data_dir}: {why.lower()} (reading commands such as "
        "list, show, stats and ask still work; write to a copy or another --data-dir)"
    )


def snapshot(store_dir: Path) -> Path:
    """A private, writable folder Chroma can open that reads the store at ``store_dir``."""
    parent = Path(tempfile.mkdtemp(prefix="rag-read-only-"))
    atexit.register(shutil.rmtree, parent, ignore_errors=True)
    target = parent / "chroma"
    try:
        shutil.copytree(store_dir, target, copy_function=shutil.copyfile)
        for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
            folder.chmod(0o700)  # copytree kept the read-only modes of the folders
    except (OSError, shutil.Error) as exc:
        raise StoreError(
            f"cannot read the read-only store at {store_dir}: copying it to {target} failed "
            f"({getattr(exc, 'strerror', None) or exc})"
        ) from exc
    return target
