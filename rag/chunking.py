"""Sentence-aware chunking with overlap (LlamaIndex's SentenceSplitter), keeping offsets."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from rag.types import Article, Chunk

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> list[str]:
    """A cheap tokenizer: words and punctuation marks (about 1.2 per word)."""
    return _TOKEN.findall(text)


@lru_cache(maxsize=8)
def splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    """A SentenceSplitter measuring size in our cheap tokens."""
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        tokenizer=count_tokens,
        paragraph_separator="\n\n",
    )


def chunk_article(article: Article, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Split the cleaned text; every chunk's text equals ``article.text[start:end]``."""
    pieces = splitter(chunk_size, chunk_overlap).split_text(article.text)
    chunks: list[Chunk] = []
    cursor = 0
    for piece in pieces:
        start = _locate(article.text, piece, cursor)
        if start < 0:
            continue
        end = start + len(piece)
        chunks.append(
            Chunk(
                chunk_id=f"{article.article_id}#{len(chunks)}",
                article_id=article.article_id,
                text=article.text[start:end],
                start=start,
                end=end,
                index=len(chunks),
            )
        )
        cursor = start + 1
    return chunks


def _locate(text: str, piece: str, cursor: int) -> int:
    """Where a splitter piece starts in the text, searching forward from the cursor."""
    found = text.find(piece, cursor)
    if found < 0:
        found = text.find(piece)
    return found


def embedding_text(article: Article, chunk: Chunk) -> str:
    """What is embedded for a chunk: the headline gives short chunks their context."""
    return f"{article.title}\n{chunk.text}" if article.title else chunk.text
