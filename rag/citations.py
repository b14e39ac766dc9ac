"""The citation checker every answer passes through, whatever model (or none) wrote it.

``check_answer`` resolves the markers against the passages that were shown (``passages[i]``
is source i+1), drops those that name nothing, renumbers the rest 1..k in order of first
use, checks quoted text against the cited passages, cites uncited sentences that a passage
clearly supports, flags the rest, and finds the supporting span of every citation.

Markers read: ``[2]``, ``[2, 3]``, ``[2][3]``, ``[2-4]``, ``[^2]``, ``【2】``, ``【2†source】``,
``[Source 2]``, ``[source: 2]``, ``[Sources 1 and 3]``, ``[Passage 2]``, ``(Source 2)``.
Never markers: four-digit numbers in brackets (``[2023]``), bare ``(2)``, numbers in prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from rag.text import (
    MARKER,
    MARKER_PATTERN,
    MARKER_WORDS,
    MAX_MARKER_RANGE,
    STOPWORDS,
    clip,
    marker_ranges,
    normalize_number,
    plain,
    sentence_spans,
    stem,
    strip_accents,
    stripped,
)
from rag.types import Citation, Passage

__all__ = [
    "MARKER",
    "CheckedAnswer",
    "best_span",
    "check_answer",
    "content_tokens",
    "normalize_for_match",
    "split_sentences",
    "support",
]

# --- marker grammar ----------------------------------------------------------------------

# Bracketed things that look like a failed attempt at a marker: [abc], [n], [source], 【…】.
_GARBAGE = (
    rf"\[\s*(?:[^\s\[\]\"“”]{{1,12}}|{MARKER_WORDS}\b[^\[\]\n\"“”]{{0,40}})\s*\](?!\()"
    r"|【[^】\n]{0,40}】"
)
_PROSE_BRACKETS = frozenset({"...", "…", "sic", "sic!", "?", "!", "-", "—"})

_SCAN = re.compile(
    rf"(?<![ \t])(?P<pre>[ \t]*)(?:(?P<marker>{MARKER_PATTERN})|(?P<garbage>{_GARBAGE}))", re.I
)
_CANON = re.compile(r"(?<![ \t])(?P<pre>[ \t]*)\[(?P<n>\d{1,3})\]")
_ADJACENT = re.compile(r"(\[\d{1,3}\])[ \t]*[,;]?[ \t]*(?=\[\d{1,3}\])")
_RUN = re.compile(r"(?:\[\d{1,3}\])+")

# --- text ---------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_NONSPACE = re.compile(r"\S+")
_ALNUM = re.compile(r"[^\W_]")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)*")
_ENUMERATOR = re.compile(
    r"^[ \t]*(?:[-*•>#]+|\d{1,2}[.)])[ \t]+|\(\d{1,2}\)|(?<!\S)\d{1,2}\)", re.M
)
_QUOTE_CHAR = re.compile(r"[\"“”„\n]")
_GAP = re.compile(r"\.\.\.|…|\[[^\]]*\]")
_EDGE = " .,;:!?-'\""
_MID_MARKER = re.compile(r"\[\d{1,3}\][^\w]*\w")

_NOT = re.compile(r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should|must)\s+not\b")
_BARE_NT = re.compile(r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should|ca|wo)nt\b")
_CANNOT = re.compile(r"\bcan\s*not\b")
_WILL_NOT = re.compile(r"\bwill\s+not\b")
_ANSWER_LABEL = re.compile(r"^\W*(?:final\s+)?answer\s*:\s*")
_REFUSAL_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


@dataclass
class CheckedAnswer:
    """An answer whose markers resolve to shown passages, numbered 1..n in order of use."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Sentence:
    """A sentence of the answer: offsets into the working text and the passages it cites."""

    start: int
    end: int
    cited: list[int]
    added: list[int] = field(default_factory=list)
    dropped: bool = False
    moved: bool = False  # its markers pointed at passages that do not say it: re-cited

    @property
    def sources(self) -> list[int]:
        """Passage indices cited by the model or attached by the checker."""
        return self.cited + [p for p in self.added if p not in self.cited]


@dataclass
class _Index:
    """Per-answer cache of the token sets and match views of the shown passages."""

    passages: list[Passage]
    context: str = ""
    tokens: dict[int, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    views: dict[int, tuple[str, list[int]]] = field(default_factory=dict)

    @cached_property
    def words(self) -> frozenset[str]:
        """Every word and number of every shown passage, its headline and outlet and the
        caller's `context` (a quote's speaker), lowercased and folded ("U.S." also as "us")."""
        shown = [f"{p.text} {p.title} {p.source}" for p in self.passages]
        text = _fold(plain(" ".join([*shown, self.context])).lower())
        words = {_possessive(w) for w in _TOKEN.findall(text)}
        words |= {_possessive(w) for w in _TOKEN.findall(text.replace(".", ""))}
        numbers = {n for i in range(len(self.passages)) for n in self.token_sets(i)[1]}
        return frozenset(words | numbers)

    @cached_property
    def stems(self) -> frozenset[str]:
        """The stems of ``words`` ("americans" -> "american")."""
        return frozenset(stem(w) for w in self.words)

    def token_sets(self, i: int) -> tuple[frozenset[str], frozenset[str]]:
        """Stems and numbers of passage i."""
        if i not in self.tokens:
            self.tokens[i] = _token_sets(self.passages[i].text)
        return self.tokens[i]

    def view(self, i: int) -> tuple[str, list[int]]:
        """Normalized text of passage i with a map back to its offsets."""
        if i not in self.views:
            self.views[i] = _match_view(self.passages[i].text)
        return self.views[i]


# --- public helpers -----------------------------------------------------------------------


def normalize_for_match(text: str) -> str:
    """Lowercase, curly quotes and dashes made plain, whitespace collapsed to single spaces."""
    return _lower(_WS.sub(" ", plain(text)).strip())


def content_tokens(text: str) -> list[str]:
    """Lowercase words (2+ letters) and numbers, minus stopwords, markers and list labels."""
    text = plain(_ENUMERATOR.sub(" ", MARKER.sub(" ", text))).lower()
    if not text.isascii():
        text = _fold(text)
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if tok[0].isdigit():
            out.append(normalize_number(tok))
            continue
        if tok.endswith("'s"):
            tok = tok[:-2]
        if len(tok) >= 2 and tok not in STOPWORDS:
            out.append(tok)
    return out


def support(sentence: str, passage_text: str) -> float:
    """Share of the sentence's content tokens found in the passage; 0 if a number is missing."""
    return _support(*_token_sets(sentence), *_token_sets(passage_text))


def best_span(sentence: str, passage_text: str) -> tuple[int, int]:
    """Offsets of the passage sentence sharing most content tokens with ``sentence``."""
    stems = _token_sets(sentence)[0]
    best = stripped(passage_text, 0, len(passage_text))
    best_score = 0
    for start, end in sentence_spans(passage_text):
        score = len(stems & _token_sets(passage_text[start:end])[0])
        if score > best_score:
            best, best_score = (start, end), score
    return best


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; markers after the final punctuation stay with their sentence."""
    return [text[a:b] for a, b in sentence_spans(text)]


# --- the checker --------------------------------------------------------------------------


def check_answer(
    raw: str,
    passages: list[Passage],
    *,
    refusal_phrase: str,
    attribute_threshold: float = 0.5,
    cited_threshold: float = 0.25,
    recite_threshold: float = 0.9,
    context: str = "",
) -> CheckedAnswer:
    """Resolve, renumber and verify an answer's citations; warn about what cannot be checked.

    `context` is other text the answerer was shown as fact (a quote's speaker and titles): its
    names and numbers count as grounded."""
    if not raw or not raw.strip():
        return _refusal(refusal_phrase, ["the model returned no text"])
    if is_refusal(raw, refusal_phrase):
        return _refusal(refusal_phrase, [])
    warnings: list[str] = []
    text = _ADJACENT.sub(r"\1", _resolve_markers(raw, passages, warnings).strip())
    if not _ALNUM.search(_CANON.sub("", text)):
        return _refusal(refusal_phrase, [*warnings, "the model returned only citation markers"])
    index = _Index(passages, context)
    sentences = [_Sentence(a, b, _cited(text[a:b])) for a, b in sentence_spans(text)]
    quoted = _check_quotes(text, sentences, index, warnings)
    _check_cited(text, sentences, index, cited_threshold, warnings, recite_threshold)
    _attribute(text, sentences, index, attribute_threshold, warnings)
    _drop_ungrounded(text, sentences, index, warnings)
    kept = [s for s in sentences if not s.dropped]
    if not any(_token_sets(_CANON.sub("", text[s.start : s.end]))[0] for s in kept):
        return _refusal(refusal_phrase, warnings)
    final, order = _renumber(_render(text, sentences).strip())
    sentences = kept
    citations = []
    for p, n in order.items():
        citing = [text[s.start : s.end] for s in sentences if p in s.sources]
        span = quoted.get(p) or best_span(" ".join(citing), passages[p].text)
        each = {best_span(sentence, passages[p].text) for sentence in citing}
        spans = sorted({span, *each}) if len(citing) > 1 else [span]
        citations.append(Citation(n, passages[p], *span, spans=spans))
    return CheckedAnswer(final, citations, False, list(dict.fromkeys(warnings)))


def _refusal(phrase: str, warnings: list[str]) -> CheckedAnswer:
    """The refusal answer: the phrase itself, no citations."""
    return CheckedAnswer(phrase, [], True, warnings)


def _refusal_key(text: str) -> str:
    """Words of ``text`` for comparing refusals: no markers, case, punctuation or "do not"."""
    text = MARKER.sub(" ", plain(text).lower())
    text = _ANSWER_LABEL.sub("", text)
    text = _NOT.sub(r"\1n't", text)
    text = _BARE_NT.sub(r"\1n't", text)
    text = _WILL_NOT.sub("won't", _CANNOT.sub("can't", text))
    return " ".join(_REFUSAL_WORD.findall(text))


def is_refusal(raw: str, phrase: str) -> bool:
    """True when the answer is, or starts with, the refusal phrase."""
    key, want = _refusal_key(raw), _refusal_key(phrase)
    return bool(want) and (key == want or key.startswith(want + " "))


def _resolve_markers(raw: str, passages: list[Passage], warnings: list[str]) -> str:
    """The answer with every marker rewritten as ``[p]`` (1-based, valid) or removed."""
    quotes = _quote_spans(raw)
    copied_from = [_compact(p.text) for p in passages if MARKER.search(p.text)]
    out: list[str] = []
    cursor = 0
    for m in _SCAN.finditer(raw):
        keep: list[int] = []
        if m.group("garbage") is not None:
            body = m.group("garbage")
            inner = body.strip("[]【】 \t").lower()
            if _inside(m.start("garbage"), quotes) or inner in _PROSE_BRACKETS:
                continue
            if inner.isdigit() and len(inner) > 3:
                continue
            warnings.append(f'removed marker "{body}": not a source number')
        else:
            body = m.group("marker")
            if _copied(raw, m.start("marker"), m.end(), copied_from):
                warnings.append(f'removed marker "{body}": copied from an article\'s text')
            else:
                keep = _resolve(body, len(passages), warnings)
        out.append(raw[cursor : m.start()])
        cursor = m.end()
        if keep:
            out.append(m.group("pre") + "".join(f"[{p + 1}]" for p in keep))
            continue
        out.append(_space_left(m))
        if _at_line_start(out):
            while cursor < len(raw) and raw[cursor] in " \t":
                cursor += 1
    out.append(raw[cursor:])
    return "".join(out)


def _resolve(body: str, n_shown: int, warnings: list[str]) -> list[int]:
    """Passage indices named by one marker; numbers that name nothing are reported."""
    numbers: list[int] = []
    for lo, hi in marker_ranges(body):
        if hi < lo or hi - lo > MAX_MARKER_RANGE:
            warnings.append(f'removed marker "{body}": {lo}-{hi} is not a range of sources')
            continue
        numbers.extend(range(lo, hi + 1))
    keep = list(dict.fromkeys(k - 1 for k in numbers if 1 <= k <= n_shown))
    bad = list(dict.fromkeys(k for k in numbers if not 1 <= k <= n_shown))
    if bad:
        shown = f"sources 1-{n_shown} were shown" if n_shown else "no sources were shown"
        names = ", ".join(str(k) for k in bad)
        what = f'marker "{body}"' if not keep else f'{names} from marker "{body}"'
        warnings.append(f"removed {what}: there is no source {names} ({shown})")
    return keep


def _at_line_start(out: list[str]) -> bool:
    """True when nothing but a newline (or nothing at all) precedes the end of ``out``."""
    tail = next((piece for piece in reversed(out) if piece), "")
    return not tail or tail.endswith("\n")


def _space_left(m: re.Match[str]) -> str:
    """Whitespace to keep before a removed marker: none if punctuation or a space follows."""
    rest = m.string[m.end() : m.end() + 1]
    return "" if not rest or rest.isspace() or rest in ".,;:!?)…\"'”’" else m.group("pre")


def _copied(raw: str, start: int, end: int, copied_from: list[str]) -> bool:
    """True when the marker and the three words before it appear in a passage's text."""
    if not copied_from:
        return False
    words = raw[max(0, start - 60) : start].split()[-3:]
    if not words:
        return False
    key = _compact("".join(words) + raw[start:end])
    return any(key in text for text in copied_from)


def _compact(text: str) -> str:
    """Lowercase text with plain quotes and no whitespace at all."""
    return _WS.sub("", plain(text).lower())


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the text inside each pair of double quotes; curly quotes pair by side."""
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for m in _QUOTE_CHAR.finditer(text):
        c = m.group()
        if c == "\n":
            opened = None
        elif opened is None:
            opened = m.end() if c != "”" else None
        elif c in "“„":
            opened = m.end()
        else:
            spans.append((opened, m.start()))
            opened = None
    return spans


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """True when ``pos`` falls inside one of the spans."""
    return any(a <= pos < b for a, b in spans)


def _cited(sentence: str) -> list[int]:
    """Passage indices of the canonical markers in a sentence, first use first."""
    return list(dict.fromkeys(int(m.group("n")) - 1 for m in _CANON.finditer(sentence)))


def _check_quotes(
    text: str, sentences: list[_Sentence], index: _Index, warnings: list[str]
) -> dict[int, tuple[int, int]]:
    """Verify quotes of 3+ words; return where each passage was quoted first."""
    found_at: dict[int, tuple[int, int]] = {}
    for qs, qe in _quote_spans(text):
        quote = text[qs:qe]
        words = [w for w in _CANON.sub(" ", quote).split() if _ALNUM.search(w)]
        if len(words) < 3 or _MID_MARKER.search(quote):
            continue
        fragments = _fragments(quote)
        touched = [s for s in sentences if s.start < qe and qs < s.end]
        cited = list(dict.fromkeys(p for s in touched for p in s.sources))
        hit = _find_quote(fragments, cited or list(range(len(index.passages))), index)
        if hit is None:
            warnings.append(f'unverified quote: "{_clip(_CANON.sub("", quote), 100)}"')
            continue
        found_at.setdefault(hit[0], hit[1])
        if not cited and touched:
            touched[-1].added.append(hit[0])
    return found_at


def _find_quote(
    fragments: list[str], candidates: list[int], index: _Index
) -> tuple[int, tuple[int, int]] | None:
    """The first candidate passage containing the quote, with the quote's offsets in it."""
    for p in candidates:
        loc = _locate(fragments, index.view(p))
        if loc is not None:
            return p, loc
    return None


def _fragments(quote: str) -> list[str]:
    """Pieces of a quote between ellipses, brackets and markers, normalized, without spaces."""
    pieces = (_WS.sub("", _lower(plain(piece))).strip(_EDGE) for piece in _GAP.split(quote))
    return [piece for piece in pieces if piece]


def _locate(fragments: list[str], view: tuple[str, list[int]]) -> tuple[int, int] | None:
    """Offsets in the original passage where the fragments occur in order, or None."""
    text, index = view
    pos, first = 0, -1
    for fragment in fragments:
        at = text.find(fragment, pos)
        if at < 0:
            return None
        first = at if first < 0 else first
        pos = at + len(fragment)
    return (index[first], index[pos - 1] + 1) if first >= 0 else None


def _match_view(text: str) -> tuple[str, list[int]]:
    """The text as quotes are matched (no markers, no whitespace) and each char's offset."""
    low = _lower(plain(text))
    out: list[str] = []
    index: list[int] = []
    cursor = 0
    for start, end in [*((m.start(), m.end()) for m in _CANON.finditer(low)), (len(low), len(low))]:
        for m in _NONSPACE.finditer(low, cursor, start):
            out.append(m.group())
            index.extend(range(m.start(), m.end()))
        cursor = end
    return "".join(out), index


def _check_cited(
    text: str,
    sentences: list[_Sentence],
    index: _Index,
    threshold: float,
    warnings: list[str],
    recite_threshold: float,
) -> None:
    """Flag a sentence its own citations do not support: under ``threshold`` of its content
    words in the cited passages, or a number of it in none of them. When another shown
    passage holds at least ``recite_threshold`` of them (and every number), the sentence is
    cited to that passage instead: a small model copies a sentence from [1] and cites [2]."""
    for s in sentences:
        if not s.cited:
            continue
        claim = _CANON.sub("", text[s.start : s.end])
        stems, numbers = _token_sets(claim)
        if not stems:
            continue
        cited_stems = frozenset().union(*(index.token_sets(p)[0] for p in s.cited))
        cited_numbers = frozenset().union(*(index.token_sets(p)[1] for p in s.cited))
        if _support(stems, numbers, cited_stems, cited_numbers) >= threshold:
            continue
        scores = [
            _support(stems, numbers, *index.token_sets(p)) for p in range(len(index.passages))
        ]
        best = max(range(len(scores)), key=lambda p: scores[p])
        if scores[best] >= recite_threshold:
            s.cited, s.moved = [best], True
            warnings.append(f"re-cited to the source that says it: {_clip(claim, 60)}")
        else:
            warnings.append(f"not supported by its citation: {_clip(claim, 60)}")


def _attribute(
    text: str, sentences: list[_Sentence], index: _Index, threshold: float, warnings: list[str]
) -> None:
    """Cite each uncited sentence to the passage that supports it best, or flag it."""
    for s in sentences:
        if s.sources:
            continue
        claim = text[s.start : s.end]
        stems, numbers = _token_sets(claim)
        if not stems:
            continue  # filler such as "Here is the answer:"
        best, best_p = 0.0, -1
        for p in range(len(index.passages)):
            score = _support(stems, numbers, *index.token_sets(p))
            if score > best:
                best, best_p = score, p
        if best_p >= 0 and best >= threshold:
            s.added.append(best_p)
        else:
            warnings.append(f"unsupported: {_clip(claim, 60)}")


# A capitalised word that is not the first of its sentence or quotation: a name, most often.
_NAME = re.compile(r"(?<![.!?:\"“‘(\[]\s)(?<!^)(?<![\"“‘(])\b[A-Z][^\W\d_]*(?:['’][^\W\d_]+)?")


def _drop_ungrounded(
    text: str, sentences: list[_Sentence], index: _Index, warnings: list[str]
) -> None:
    """Leave out a sentence that brings a number or a name found in none of the shown
    passages (in no form: "American" is found in "Americans"): the two things a model most
    often makes up, and the two a reader most relies on.
    ("Kilicdaroglu won 30.4% of the vote" when no source gives a share; "the Turkish Election
    Commission" when no source names it.) Weaker gaps stay, flagged by the checks above."""
    words = index.words
    for s in sentences:
        claim = _CANON.sub("", text[s.start : s.end])
        numbers = _token_sets(claim)[1]
        names = {
            _possessive(_fold(m.group().lower()))
            for m in _NAME.finditer(claim.strip())
            if len(m.group()) > 1  # "U" of "U.S."
        }
        # a name in another form of a word the sources hold is theirs ("the American
        # investigations" from "what the Americans have done")
        names = {n for n in names - STOPWORDS - words if stem(n) not in index.stems}
        missing = sorted((numbers - words) | names)
        if missing:
            s.dropped = True
            warnings.append(f"left out ({', '.join(missing)} in no source): {_clip(claim, 60)}")


def _possessive(word: str) -> str:
    """ "turkey's" -> "turkey"."""
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _render(text: str, sentences: list[_Sentence]) -> str:
    """The working text with repeated markers dropped, attached markers placed and left-out
    sentences removed with the space before them."""
    out: list[str] = []
    cursor = 0
    for s in sentences:
        if s.dropped:
            out.append(text[cursor : s.start].rstrip(" \t") if out else "")
            cursor = s.end
            continue
        out.append(text[cursor : s.start])
        segment = _drop_repeats(text[s.start : s.end])
        if s.moved:
            segment = _attach(_CANON.sub("", segment), f"[{s.cited[0] + 1}]") + _trailing(segment)
        added = [p for p in s.added if p not in s.cited]
        if added:
            segment = _attach(segment, "".join(f"[{p + 1}]" for p in added))
        out.append(segment)
        cursor = s.end
    out.append(text[cursor:])
    return "".join(out)


def _drop_repeats(segment: str) -> str:
    """Remove markers that repeat an earlier marker of the same sentence."""
    seen: set[str] = set()

    def keep_first(m: re.Match[str]) -> str:
        if m.group("n") in seen:
            return _space_left(m)
        seen.add(m.group("n"))
        return m.group()

    return _CANON.sub(keep_first, segment)


def _trailing(segment: str) -> str:
    """The whitespace that ends ``segment``."""
    return segment[len(segment.rstrip()) :]


def _attach(segment: str, markers: str) -> str:
    """Put markers before the final punctuation, or after a closing quote."""
    body = segment.rstrip()
    stem = body.rstrip(".!?…:;,")
    if body.endswith(('"', "”", "’", "'", "*", "_")) or stem == body:
        return f"{body} {markers}"
    return f"{stem.rstrip()} {markers}{body[len(stem) :]}"


def _renumber(text: str) -> tuple[str, dict[int, int]]:
    """Markers renumbered 1..k in order of first use; returns passage index -> new number."""
    order: dict[int, int] = {}
    for m in _CANON.finditer(text):
        order.setdefault(int(m.group("n")) - 1, len(order) + 1)
    text = _CANON.sub(lambda m: f"{m.group('pre')}[{order[int(m.group('n')) - 1]}]", text)
    return _RUN.sub(_sort_run, text), order


def _sort_run(m: re.Match[str]) -> str:
    """``[3][1]`` -> ``[1][3]``."""
    numbers = sorted(int(n) for n in re.findall(r"\d+", m.group()))
    return "".join(f"[{n}]" for n in numbers)


# --- tokens and support -------------------------------------------------------------------


def _lower(text: str) -> str:
    """``text.lower()`` with "İ" as "i", keeping the length (for offset maps)."""
    text = text.replace("İ", "i")
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _fold(text: str) -> str:
    """Strip accents: "é" -> "e", "ı" -> "i"."""
    return strip_accents(text.replace("ı", "i"))


def _token_sets(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Stemmed content tokens and the numbers among them."""
    tokens = content_tokens(text)
    return frozenset(stem(t) for t in tokens), frozenset(t for t in tokens if t[0].isdigit())


def _support(
    stems: frozenset[str],
    numbers: frozenset[str],
    passage_stems: frozenset[str],
    passage_numbers: frozenset[str],
) -> float:
    """Share of stems found in the passage; 0 when any number of the sentence is missing."""
    if not stems or not numbers <= passage_numbers:
        return 0.0
    return len(stems & passage_stems) / len(stems)


def _clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, with an ellipsis when cut."""
    return clip(_WS.sub(" ", text).strip(), limit)
