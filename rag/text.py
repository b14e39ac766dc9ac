"""Text pieces shared by the citation checker, the metrics and the answerers.

Sentence spans with offsets (lines first, then terminal punctuation, never after an
abbreviation and, unless asked otherwise, never inside a quotation), the abbreviation and
stopword lists, accent folding and number normalisation.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ABBREVIATIONS",
    "PAREN_MARKER_WORDS",
    "STOPWORDS",
    "normalize_number",
    "sentence_spans",
    "strip_accents",
    "stripped",
]

# English function words both the checker and the metrics ignore; each adds its own extras.
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could couldn't did didn't do does doesn't doing
    don't down during each either few for from further had hadn't has hasn't have haven't having
    he her here hers herself him himself his how however i if in into is isn't it its itself
    just may me might more most must mustn't my myself no nor not now of off on once only or
    other our ours ourselves out over own said same say says shan't she should shouldn't so
    some such than that the their theirs them themselves then there these they this those
    through to too under until up upon us very was wasn't we were weren't what when where
    whether which while who whom why will with won't would wouldn't yet you you'd you'll you're
    you've your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_ABBREVIATION_TEXT = """
    mr mrs ms dr prof sen rep reps gov gen maj col lt sgt capt cmdr adm st jr sr supt inc co corp
    ltd bros vs v no nos fig vol approx est dept univ mt ft rev hon pres messrs ph.d
    jan feb mar apr jun jul aug sep sept oct nov dec
"""
ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split())

# Words that may open a parenthesised citation marker: "(Source 2)", "(see passage 3)".
PAREN_MARKER_WORDS = (
    r"(?:sources?|passages?|documents?|docs?|references?|refs?|citations?|excerpts?)"
)

_BOUNDARY = re.compile(r"[.!?…]+[\"”’')*_]*")
_TRAILING = re.compile(
    rf"(?:[ \t]*(?:\[[^\[\]\n]{{1,40}}\]|【[^】\n]{{1,40}}】|\(\s*(?:see\s+)?{PAREN_MARKER_WORDS}"
    r"[^()\n]{0,40}\)))*",
    re.I,
)
_NEXT = re.compile(r"\s+(\S)")
_LAST_WORD = re.compile(r"([^\s(\[\"“‘'*]+)$")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_LINE = re.compile(r"[^\n]+")


def sentence_spans(text: str, *, quote_aware: bool = True) -> list[tuple[int, int]]:
    """(start, end) of each sentence: lines first, then terminal punctuation.

    Citation markers after the final punctuation stay with their sentence. With
    ``quote_aware`` a sentence inside an open quotation goes on to the closing quote.
    """
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start, stop = line.start(), line.end()
        for m in _BOUNDARY.finditer(text, start, stop):
            if m.start() < start:
                continue
            trailing = _TRAILING.match(text, m.end(), stop)
            end = trailing.end() if trailing else m.end()
            if end < stop:
                nxt = _NEXT.match(text, end, stop)
                if nxt is None or nxt.group(1).islower():
                    continue
            if _abbreviation(text, start, m.start(), m.group()):
                continue
            if quote_aware and _open_quote(text[start:end]):
                continue
            spans.append(stripped(text, start, end))
            start = end
        if text[start:stop].strip():
            spans.append(stripped(text, start, stop))
    return [(a, b) for a, b in spans if a < b]


def _open_quote(segment: str) -> bool:
    """True when the segment ends inside a quotation (a quoted sentence goes on)."""
    straight = segment.count('"') % 2 == 1
    curly = segment.count("“") > segment.count("”")
    return straight or curly


def _abbreviation(text: str, start: int, dot: int, punct: str) -> bool:
    """True when a single period closes "Mr.", "U.S.", an initial or a list number."""
    if punct.rstrip("\"”’')*_") != ".":
        return False
    head = text[max(start, dot - 40) : dot]
    m = _LAST_WORD.search(head)
    if m is None:
        return False
    word = m.group(1).lower()
    if word in ABBREVIATIONS or _INITIALS.fullmatch(word):
        return True
    if len(word) == 1 and word.isalpha():
        return True
    return word.isdigit() and dot - start <= 8 and text[start:dot].strip() == m.group(1)


def stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets narrowed to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def strip_accents(text: str) -> str:
    """Accents removed by Unicode decomposition: "é" -> "e", "ğ" -> "g"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_number(token: str) -> str:
    """Normalize a number: "1,200" -> "1200", "3.50" -> "3.5", "07" -> "7"."""
    whole, _, fraction = token.replace(",", "").partition(".")
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole
