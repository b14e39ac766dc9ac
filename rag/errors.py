"""Errors raised by rag, written for the person at the terminal.

RagError
 ├── ConfigError        bad settings or an unknown backend
 ├── InputError         an article file that cannot be read
 ├── FetchError         a web page or feed cannot be fetched (refused, failed, too big...)
 ├── StoreError         the vector store is unreachable, locked or inconsistent
 │    └── EmbeddingMismatchError   the collection was built with another embedding model
 └── ModelError         the LLM or embedding service failed (timeout, bad key, refused)
"""


class RagError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""


class ConfigError(RagError):
    """Settings are invalid or name something that is not available."""


class InputError(RagError):
    """An input file or record cannot be read as an article."""


class FetchError(RagError):
    """A URL was refused or its fetch failed; ``status`` is the HTTP status when there was one,
    ``passing`` says a later try may succeed (a timeout, a 503)."""

    def __init__(self, reason: str, status: int | None = None, passing: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.passing = passing


class StoreError(RagError):
    """The store cannot be opened, reached or written."""


class EmbeddingMismatchError(StoreError):
    """The collection was built with a different embedding model."""


class ModelError(RagError):
    """A language or embedding model call failed."""
