"""The one home of text handling shared by retrieval, the answerers, citations and metrics.

Terms (the words BM25 indexes and the answerer weighs: lowercase, Lucene's stopwords out,
British spellings read as American, Snowball-stemmed), the stopword and question-word
lists, quote and dash normalisation, month names, the citation-marker grammar, sentence
spans with offsets (lines first, then terminal punctuation, never after an abbreviation
and, unless asked otherwise, never inside a quotation), accent folding, number
normalisation and clipping for display.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

__all__ = [
    "ABBREVIATIONS",
    "DOUBLE_QUOTES",
    "INDEX_STOPWORDS",
    "MARKER",
    "MAX_MARKER_RANGE",
    "MONTHS",
    "PAREN_MARKER_WORDS",
    "QUESTION_WORDS",
    "SINGLE_QUOTES",
    "STOPWORDS",
    "clip",
    "index_terms",
    "key_terms",
    "marker_ranges",
    "normalize_number",
    "plain",
    "sentence_spans",
    "stem",
    "strip_accents",
    "strip_markers",
    "stripped",
    "words",
]

MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip

# --- words, stopwords, stems --------------------------------------------------------------

# Lucene's English stopwords: the only words the BM25 index leaves out, so that "US", "May"
# and "WHO" stay searchable. Every other list below contains them.
_INDEX_STOPWORD_TEXT = """
    a an and are as at be but by for if in into is it no not of on or such that the their then
    there these they this to was will with
"""
INDEX_STOPWORDS = frozenset(_INDEX_STOPWORD_TEXT.split())

# English function words that carry no content: what the citation checker, the metrics and
# the answerers ignore when they compare a sentence with a passage.
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
    ain among couldn d didn doesn don etc hadn hasn haven isn ll m ma mightn mightn't mustn
    needn needn't o per re s shall shan should've shouldn t that'll ve via wasn weren within
    without wouldn y
    can't cannot he'd he'll he's here's how's i'd i'll i'm i've it's let's neither ought she'd
    she'll she's that's there's they'd they'll they're they've we'd we'll we're we've what's
    when's where's who's whose why's yes
    saying told tell tells according although though
    answer answers question questions following follows based provided given
    information context summary overview sure certainly okay ok article articles source sources
    passage passages document documents text report reports reported
"""
STOPWORDS = INDEX_STOPWORDS | frozenset(_STOPWORD_TEXT.split())

# Words of a question that say how it asks, not what it is about.
_QUESTION_TEXT = """
    what who whom whose which when where why how did does do done say said says tell told
    according name named mr ms mrs week recently year month day today yesterday last new one
    any some much many
    speak speaks spoke spoken speaking talk talked talking telling
"""
QUESTION_WORDS = STOPWORDS | frozenset(_QUESTION_TEXT.split())

_INDEX_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern: 2+ word characters
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


# Past forms a stemmer cannot map to their verb ("spent" does not stem to "spend").
IRREGULAR = {
    "spent": "spend", "won": "win", "lost": "lose",
    "left": "leave", "met": "meet", "paid": "pay", "sold": "sell", "bought": "buy",
    "began": "begin", "begun": "begin", "took": "take", "taken": "take", "gave": "give",
    "given": "give", "made": "make", "found": "find", "held": "hold", "led": "lead",
    "ran": "run", "fell": "fall", "fallen": "fall", "rose": "rise", "risen": "rise",
    "brought": "bring", "thought": "think", "kept": "keep", "sent": "send",
    "built": "build", "struck": "strike", "shot": "shoot", "fought": "fight",
    "wrote": "write", "written": "write", "chose": "choose", "chosen": "choose",
    "drove": "drive", "driven": "drive", "flew": "fly", "flown": "fly", "grew": "grow",
    "grown": "grow", "knew": "know", "known": "know", "saw": "see", "seen": "see",
    "stole": "steal", "stolen": "steal",
}  # fmt: skip

# Bumped whenever ``index_terms`` changes: a BM25 index of another version is rebuilt.
TERMS_VERSION = "3"  # 1: bm25s tokenize; 2: rag.text.index_terms, irregular verbs;
# 3: British spellings as American


@lru_cache(maxsize=1)
def _spellings() -> dict[str, str]:
    """British spelling -> American ("rumours" -> "rumors"), from ``rag/data/spelling.tsv``
    (written by ``bench/spelling.py``)."""
    text = resources.files("rag").joinpath("data", "spelling.tsv").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and line[0] != "#")
    return {british: american for british, american in rows}


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[list[str]], list[str]]:
    import Stemmer

    return Stemmer.Stemmer("english").stemWords


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of a lowercase word: British spellings to American, irregular past forms to
    their verb, then Snowball (Porter 2): "accused" -> "accus", "spent" -> "spend",
    "rumours" -> "rumor"."""
    return stem_words([word])[0]


def stem_words(words: list[str], *, spelling: bool = True) -> list[str]:
    """``stem`` of many words at once (what BM25 uses while indexing); ``spelling=False``
    keeps British spellings apart (as index terms of version 2 did)."""
    table = _spellings() if spelling else {}
    american = (table.get(w, w) for w in words)
    return _stemmer()([IRREGULAR.get(w, w) for w in american])


def index_terms(text: str) -> list[str]:
    """The terms BM25 indexes and searches: lowercase words of 2+ characters, Lucene's
    stopwords out, stemmed."""
    found = [w for w in _INDEX_WORD.findall(text.lower()) if w not in INDEX_STOPWORDS]
    return stem_words(found) if found else []


def key_terms(text: str) -> list[str]:
    """The index terms of a question or sentence that say what it is about (no question or
    function words): the same normalisation as ``index_terms``, so BM25's idf applies."""
    found = [w for w in _INDEX_WORD.findall(text.lower()) if w not in QUESTION_WORDS]
    return stem_words(found) if found else []


def words(text: str) -> list[str]:
    """Lowercase, accent-folded words and numbers, quotes made plain, possessive 's dropped."""
    folded = strip_accents(plain(text)).casefold()
    return [w[:-2] if w.endswith("'s") else w for w in _WORD.findall(folded)]


# --- quotes and dashes ----------------------------------------------------------------------

SINGLE_QUOTES = "‘’‚‛′"
DOUBLE_QUOTES = "“”„‟«»″"
_PLAIN = (
    *((q, "'") for q in SINGLE_QUOTES),
    *((q, '"') for q in DOUBLE_QUOTES),
    ("–", "-"), ("—", "-"), ("‐", "-"), ("‑", "-"), ("\u00a0", " "),
)  # fmt: skip


def plain(text: str) -> str:
    """Curly quotes, dashes and no-break spaces replaced by their plain forms (same length)."""
    if text.isascii():
        return text
    for fancy, simple in _PLAIN:
        if fancy in text:
            text = text.replace(fancy, simple)
    return text


_ABBREVIATION_TEXT = """
    mr mrs ms dr prof sen rep reps gov gen maj col lt sgt capt cmdr adm st jr sr supt inc co corp
    ltd bros vs v no nos fig vol approx est dept univ mt ft rev hon pres messrs ph.d
    sept
"""
ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split()) | {m[:3] for m in MONTHS if m != "may"}

# --- citation markers -----------------------------------------------------------------------

# Words that may open a parenthesised citation marker: "(Source 2)", "(see passage 3)".
PAREN_MARKER_WORDS = (
    r"(?:sources?|passages?|documents?|docs?|references?|refs?|citations?|excerpts?)"
)
MARKER_WORDS = (
    r"(?:sources?|passages?|documents?|docs?|references?|refs?|citations?|excerpts?"
    r"|snippets?|chunks?|articles?)"
)
MARKER_LABEL = r"\s*(?:(?:no\.?|number)\s*)?(?:[:#]\s*)?"  # no two \s* side by side
MARKER_NUMBERS = r"\^?\d{1,3}(?:\s*[-–]\s*\^?\d{1,3})?(?:\s*†[^\]】,;]*)?"
MARKER_ITEM = rf"(?:{MARKER_WORDS}{MARKER_LABEL})?{MARKER_NUMBERS}"
MARKER_SEP = r"\s*(?:[,;&]|\band\b)\s*"
_ITEMS = rf"{MARKER_ITEM}(?:{MARKER_SEP}{MARKER_ITEM})*"
MARKER_PATTERN = (
    rf"\[\s*{_ITEMS}\s*\]|【\s*{_ITEMS}\s*】"
    rf"|\(\s*(?:see\s+)?{PAREN_MARKER_WORDS}{MARKER_LABEL}{MARKER_NUMBERS}"
    rf"(?:{MARKER_SEP}{MARKER_ITEM})*\s*\)"
)
# Every form read as a citation marker: [2], [2, 3], [2-4], [Source 2], 【2】, (Source 2).
# Never: four-digit numbers in brackets ([2023]), bare (2), numbers in prose.
MARKER = re.compile(MARKER_PATTERN, re.I)
_SPACED_MARKER = re.compile(rf"[ \t]*(?:{MARKER_PATTERN})", re.I)


def strip_markers(text: str) -> str:
    """The text without citation markers (and the spaces before them)."""
    return _SPACED_MARKER.sub("", text).strip()


_MARKER_RANGE = re.compile(r"\^?(\d{1,3})(?:\s*[-–]\s*\^?(\d{1,3}))?")
_MARKER_NOTE = re.compile(r"†[^\]】,;]*")  # [2†L4-L9]: after the dagger, a place, not sources
MAX_MARKER_RANGE = 20  # [1-40] names no range of sources


def marker_ranges(marker: str) -> list[tuple[int, int]]:
    """The (first, last) source number of each item of one citation marker, in order."""
    found = _MARKER_RANGE.findall(_MARKER_NOTE.sub("", marker))
    return [(int(lo), int(hi or lo)) for lo, hi in found]


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
            if quote_aware and _open_quote(text[start:end]) and not _reopened(text, end, stop):
                continue
            spans.append(stripped(text, start, end))
            start = end
        if text[start:stop].strip():
            spans.append(stripped(text, start, stop))
    return [(a, b) for a, b in spans if a < b]


def _reopened(text: str, end: int, stop: int) -> bool:
    """True when the next sentence opens with a quotation mark: a quote that runs on over
    paragraphs repeats its opening mark at each and closes only at its end ('either. "But
    I'm not surprised ...'), so a sentence there ends although its quote is still open."""
    nxt = _NEXT.match(text, end, stop)
    return nxt is not None and nxt.group(1) in '"“'


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


def likely_english(text: str) -> bool:
    """False for text that is plainly not English: mostly non-Latin letters, or four or more
    words with no English function word among them."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    if sum(1 for c in letters if c.isascii()) / len(letters) < 0.5:
        return False
    tokens = [w.lower() for w in words(text)]
    return len(tokens) < 4 or any(t in STOPWORDS for t in tokens)
