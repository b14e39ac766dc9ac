"""The one place an OpenAI client is built (chat models and embeddings share its settings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.errors import ConfigError

if TYPE_CHECKING:
    from openai import OpenAI

    from rag.settings import Settings


def openai_client(settings: Settings, needed_by: str, *, flag: str = "") -> OpenAI:
    """A client for OpenAI or the configured compatible server.

    ``needed_by`` names what needs it and ``flag`` the option that sets the URL, for the
    error when neither a key nor a URL is set.
    """
    from openai import OpenAI

    if not (settings.openai_api_key or settings.openai_base_url):
        also = f" / {flag}" if flag else ""
        raise ConfigError(f"{needed_by} needs OPENAI_API_KEY or OPENAI_BASE_URL{also}")
    return OpenAI(
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )
