"""Who said what: quotations extracted at ingest, attributed to speakers, and indexed."""

from rag.quotes.extract import Quote, extract_quotes

__all__ = ["Quote", "extract_quotes"]
