"""Finding quotes in a process of its own while a large ingest embeds and writes.

Ingest embeds in one forked worker and writes to Chroma in its own process, and neither
keeps a core busy all the time (each waits for the other, the writes for the disk).
Extraction inside the embedding worker lengthened its chain: BBC ingest took 1.21x and
1.63x its time without quotes where a process of its own, filling the gaps, took 1.03x and
1.02x (``bench/quote_ingest.py``, alternated on a busy machine, load 6). The worker returns
each article's quote record ready to write (``rag.quotes.index.quote_record``), so the
writer only writes. It is forked before ingest's pool starts any thread (fork is safe
then) and takes one batch at a time: the caller receives a batch's records before it
sends the next, so neither side can block sending while the other does.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from typing import TYPE_CHECKING, NamedTuple

from rag.errors import RagError
from rag.processes import follow_parent
from rag.quotes.extract import quotes_or_fault
from rag.quotes.index import QuoteRecord, quote_record

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from rag.types import Article


class Found(NamedTuple):
    """The quotes of a batch of articles."""

    records: dict[str, QuoteRecord]  # article id -> the record of its quotes, if it has any
    failed: dict[str, str]  # article id -> why its quotes could not be read


def quotes_of(articles: list[Article]) -> Found:
    """The quote records of those articles that have quotes (``rag.quotes.index``), by
    article id: all the work of the quotes but writing them. An article whose quotes cannot
    be read (a fault in the extractor on some text) is stored without them and reported: it
    never stops an ingest."""
    found = Found({}, {})
    for a in articles:
        quotes, fault = quotes_or_fault(a.article_id, a.text)
        if fault:
            found.failed[a.article_id] = fault
        elif record := quote_record(a, quotes):
            found.records[a.article_id] = record
    return found


class QuoteWorker:
    """A forked process that finds the quotes of the batches it is sent, one at a time."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, os.getpid()), name="rag-quotes", daemon=True
        )
        self._process.start()
        child.close()
        self._busy = False

    def send(self, articles: list[Article]) -> None:
        """Start on a batch (the previous one must have been received)."""
        assert not self._busy, "receive the previous batch first"
        self._send(articles)
        self._busy = True

    def receive(self) -> Found:
        """The quotes of the batch sent last, once found."""
        assert self._busy, "nothing was sent"
        self._busy = False
        try:
            reply = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise RagError(f"the quote worker is gone: {exc}") from exc
        if isinstance(reply, str):
            raise RagError(f"the quote worker failed: {reply}")
        found: Found = reply
        return found

    def close(self) -> None:
        """Stop the worker (at once if it is still busy)."""
        if self._process.is_alive() and not self._busy:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()

    def _send(self, message: list[Article] | None) -> None:
        try:
            self._conn.send(message)
        except OSError as exc:
            raise RagError(f"the quote worker is gone: {exc}") from exc


def _serve(conn: Connection, parent: int) -> None:
    follow_parent(parent)
    while (articles := conn.recv()) is not None:
        try:
            reply: Found | str = quotes_of(articles)
        except Exception as exc:  # reported to the caller, which raises it
            reply = f"{type(exc).__name__}: {exc}"
        conn.send(reply)
