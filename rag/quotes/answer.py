"""Questions about what someone said ("What did X say (about Y)?", "How did the Kremlin
respond?", "What was X's reaction?"), answered from the quote index: every relevant quote
of the speaker, most relevant first, verbatim, with the speaker named and a citation each.

``speaker_question`` recognises the question; ``quote_passages`` turns the speaker's quotes
into numbered passages (the sentence holding each quote, verbatim from the article);
``quote_answer`` writes the extractive answer from them. An LLM answerer gets the same
passages, so the citation checker checks its quotes against them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from rag.quotes.index import QuoteRef, StoredQuote, terms
from rag.quotes.model import OBJECT_VERBS

if TYPE_CHECKING:
    from datetime import date

    from rag.llm import OnToken
    from rag.quotes.index import QuoteIndex
    from rag.retrieve import Filters
    from rag.types import Answer, Passage, Reply

MAX_QUOTES = 20  # quotes in one answer
LEAD_WORDS = 12  # the most words of narration shown before a partial quote
# articles whose quotes are read for one question in a collection without speaker key
# records (made before them): bounds that slow lookup for a prolific speaker. With key
# records every quote of the speaker is ranked and only the kept ones' articles are read
# (bench/results/quote_lookup.json, 10,000 articles).
MAX_READ = 300

_VERBS = (
    r"say|said|tell|told|think|thought|claim|claimed|deny|denied|respond|responded|react|"
    r"reacted|reply|replied|comment|commented|argue|argued|believe|feel|felt|warn|warned|"
    r"insist|insisted|admit|admitted|announce|announced|mean|answer|answered|add|added|"
    r"predict|predicted|suggest|suggested|reveal|revealed|stress|stressed|accuse|accused"
)
_TOPIC = (
    r"(?:\s+(?:about|on|of|regarding|concerning|over|to|towards|in response to|after|when)"
    r"\s+(?P<topic>.+?))?"
)
_END = r"\s*[?.!]*\s*$"
_FORMS = [
    re.compile(
        rf"^(?:what|how)\s+(?:else\s+)?(?:did|does|do|has|have|had)\s+(?P<who>.+?)\s+"
        rf"(?:(?:ever|also|just|publicly)\s+)?(?:{_VERBS}){_TOPIC}{_END}",
        re.I,
    ),
    re.compile(
        rf"^what\s+(?:was|were|is|are|has been)\s+(?P<who>.+?)['’]s?\s+(?:first\s+)?"
        rf"(?:reaction|response|view|views|position|comment|comments|stance|answer|reply|take|"
        rf"message|statement|statements|words|verdict|opinion|remarks|quotes?){_TOPIC}{_END}",
        re.I,
    ),
    re.compile(
        rf"^(?:what|which)\s+(?:quotes?|statements?|comments?|remarks?)\s+(?:did|has|have|does)\s+"
        rf"(?P<who>.+?)\s+(?:make|made|give|gave|issue|issued){_TOPIC}{_END}",
        re.I,
    ),
    re.compile(rf"^(?:quotes?|statements?)\s+(?:by|from|of)\s+(?P<who>.+?){_TOPIC}{_END}", re.I),
]
_NOT_SPEAKERS = frozenset(
    {"it", "this", "that", "you", "i", "we", "they", "he", "she", "people", "anyone", "someone"}
)
_CARRIED = re.compile(r"\s*\([^()]*\)\s*$")
_WORD = re.compile(r"\w+")


class Answerer(Protocol):
    """What the answer needs of rag.engine's answerers: a name, and a reply to numbered
    passages."""

    name: str

    def respond(
        self, question: str, passages: list[Passage], as_of: date, on_token: OnToken | None
    ) -> Reply: ...


@dataclass
class SpeakerQuestion:
    """Who the question asks about and, if it says, about what."""

    speaker: str
    topic: str = ""


def speaker_question(question: str) -> SpeakerQuestion | None:
    """The speaker (and topic) of a question about what someone said; None otherwise."""
    text = _CARRIED.sub("", " ".join(question.split()))  # chat's carried-over terms
    for form in _FORMS:
        m = form.match(text)
        if m is None:
            continue
        who = m.group("who").strip(" ,")
        if who.lower() in _NOT_SPEAKERS or len(who.split()) > 6:
            return None
        topic = (m.groupdict().get("topic") or "").strip(" ,")
        return SpeakerQuestion(who, topic)
    return None


def find_speaker_quotes(
    index: QuoteIndex, asked: SpeakerQuestion, filters: Filters | None = None
) -> list[StoredQuote]:
    """The speaker's quotes relevant to the topic, most relevant first (the newest when no
    topic is asked), nested fragments dropped; [] when the speaker has none."""
    kw: dict[str, Any] = {}
    if filters is not None:
        kw = {"since": filters.since, "until": filters.until, "source": filters.source}
    refs = index.refs(asked.speaker, **kw)
    if refs is None:  # a collection without key records: read the speaker's articles
        return _find_by_reading(index, asked, kw)
    if not refs and len(asked.speaker.split()) > 1:
        refs = index.refs(asked.speaker.split()[-1], **kw) or []
    if asked.topic:
        wanted = terms(asked.topic)
        refs = _ranked(refs, [r.overlap(wanted) for r in refs])
    return index.quotes_at(_outermost(refs, MAX_QUOTES))


def _find_by_reading(
    index: QuoteIndex, asked: SpeakerQuestion, kw: dict[str, Any]
) -> list[StoredQuote]:
    """find_speaker_quotes on a collection made before key records: the quotes of at most
    MAX_READ of the speaker's articles."""
    found = index.find(asked.speaker, limit=MAX_READ, **kw)
    if not found and len(asked.speaker.split()) > 1:
        found = index.find(asked.speaker.split()[-1], limit=MAX_READ, **kw)
    refs = [
        QuoteRef(
            q.quote.article_id,
            0,
            q.source,
            q.quote.start,
            q.quote.end,
            " ".join(terms(f"{q.quote.text} {q.context}")),
        )
        for q in found
    ]
    if asked.topic:
        wanted = terms(asked.topic)
        refs = _ranked(refs, [r.overlap(wanted) for r in refs])
    by_ref = {(q.quote.article_id, q.quote.start, q.quote.end): q for q in found}
    return [by_ref[(r.article_id, r.start, r.end)] for r in _outermost(refs, MAX_QUOTES)]


def _ranked(refs: list[QuoteRef], scores: list[int]) -> list[QuoteRef]:
    """The refs with a score, highest first; a quote that goes straight on from a relevant
    one is about the same thing (half its score)."""
    weights = [float(x) for x in scores]
    for i in range(1, len(refs)):
        prev, q = refs[i - 1], refs[i]
        same = prev.article_id == q.article_id and 0 <= q.start - prev.end < 400
        if not weights[i] and weights[i - 1] and same:
            weights[i] = weights[i - 1] / 2
    order = sorted(range(len(refs)), key=lambda i: (-weights[i], i))
    return [refs[i] for i in order if weights[i] > 0]


def _outermost(refs: list[QuoteRef], limit: int) -> list[QuoteRef]:
    """The first ``limit`` refs that are not inside another quote of the same article (a
    partial quote inside its reported clause is said once)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for r in refs:
        spans.setdefault(r.article_id, []).append((r.start, r.end))
    kept: list[QuoteRef] = []
    for r in refs:
        if len(kept) == limit:
            break
        if not any(
            a <= r.start and r.end <= b and (a, b) != (r.start, r.end)
            for a, b in spans[r.article_id]
        ):
            kept.append(r)
    return kept


def quote_passages(quotes: list[StoredQuote]) -> list[Passage]:
    """One passage a quote: the article sentence(s) holding it, verbatim, with offsets."""
    from rag.types import Passage

    return [
        Passage(
            chunk_id=f"{q.quote.article_id}#q{q.quote.start}",
            article_id=q.quote.article_id,
            text=q.context or q.quote.text,
            title=q.title,
            source=q.source,
            published=q.published,
            url=q.url,
            start=q.quote.context_start if q.context else q.quote.start,
            end=q.quote.context_end if q.context else q.quote.end,
        )
        for q in quotes
    ]


def quote_answer(quotes: list[StoredQuote]) -> str:
    """One line a quote, most relevant first: the speaker, the cue, the quote verbatim, [n].
    One line cites each quote of the same speaker from the same sentence of its article, or
    that reads the same word for word: the same words in several articles (a story run
    twice, a wire copy, the same quote with another full stop) give "... [4][5]"."""
    lines: list[tuple[str, list[int]]] = []
    seen: dict[tuple[str, ...], int] = {}
    described: set[str] = set()
    for n, q in enumerate(quotes, 1):
        keys = [
            (q.quote.speaker, " ".join((q.context or q.quote.text).split())),
            (q.quote.speaker, *_WORD.findall(_quote_line(q, q.quote.speaker).lower())),
        ]
        line = next((seen[k] for k in keys if k in seen), None)
        if line is None:
            name = q.quote.speaker
            if q.quote.descriptors and name not in described:
                name = f"{name} ({q.quote.descriptors[0]})"
                described.add(q.quote.speaker)
            line = len(lines)
            lines.append((_quote_line(q, name), []))
        lines[line][1].append(n)
        seen.update((k, line) for k in keys)
    return "\n".join(f"{text} {''.join(f'[{n}]' for n in cited)}" for text, cited in lines)


def _quote_line(q: StoredQuote, name: str) -> str:
    """What ``name`` said, as the answer shows one quote (without its citation)."""
    quote = q.quote
    text = " ".join(quote.text.split())
    lead = _lead(q)
    if quote.kind == "direct" and lead and quote.cue == "according to":
        return f'According to {name}, {lead} "{text}"'
    if quote.kind == "direct" and lead and (said := _from_cue(lead, quote.cue)):
        return f'{name} {said} "{text}"'
    if quote.kind == "direct" and lead:
        return f'{name} {_direct_cue(quote.cue)}: {lead} "{text}"'
    if quote.kind == "direct":
        return f'{name} {_direct_cue(quote.cue)}: "{text}"'
    if quote.cue == "according to":
        return f"According to {name}, {text}"
    if said := _cue_words(q):
        return f"{name} {said} {text}"
    # "Mr Blair told the audience he …", "…, he said.": the sentence as written
    return f"{name}: {' '.join((q.context or quote.text).split())}"


def _cue_words(q: StoredQuote) -> str:
    """The article's words from an indirect quote's cue to what was said ("said", "said
    that", "vowed"), when its sentence goes straight from one to the other and the cue is
    not "told" missing whom it was told to; "" otherwise: the words between (an audience,
    a time) or a cue after the content ("…, he said") would be lost or garbled."""
    quote = q.quote
    if not q.context:  # a record stored without its sentence
        return quote.cue if quote.cue in OBJECT_VERBS else f"{quote.cue} that"
    before = q.context[: max(0, quote.start - quote.context_start)]
    follows = re.search(rf"\b{re.escape(quote.cue)}(?:\s+that)?\s*$", before)
    if follows is None or quote.cue.startswith(("told", "tell")):
        return ""
    return " ".join(follows.group().split())


def _lead(q: StoredQuote) -> str:
    """The words before a partial quote in its clause ("Russia" in 'according to the
    spokesman, Russia "very, very much values ..."'); "" when the quote opens its sentence,
    follows a colon or a comma, or its clause is long or holds another quote."""
    if q.quote.kind != "direct" or not q.context:
        return ""
    before = q.context[: max(0, q.quote.start - q.quote.context_start)].rstrip()
    before = before.removesuffix('"').rstrip()
    if not before or before[-1] in ":,—-(":
        return ""
    clause = " ".join(before.rsplit(", ", 1)[-1].split())
    if '"' in clause or len(clause.split()) > LEAD_WORDS:
        return ""
    return clause


def _from_cue(lead: str, cue: str) -> str:
    """The lead from its cue verb on ("called the plan" in "Hale called the plan"), or ""."""
    words = lead.split()
    cue_words = cue.split()
    for i in range(len(words) - len(cue_words), -1, -1):
        if [w.lower() for w in words[i : i + len(cue_words)]] == cue_words:
            return " ".join(words[i:])
    return ""


def _direct_cue(cue: str) -> str:
    """The cue as a verb before a colon: "told", "according to" and none read as "said"."""
    if cue.endswith("ed") or cue in {"pointed out", "wrote", "thought", "felt"}:
        return cue
    return "said"


def answer_from_quotes(
    question: str,
    index: QuoteIndex,
    answerer: Answerer,
    *,
    as_of: date,
    filters: Filters | None = None,
    on_token: OnToken | None = None,
    limit: int | None = None,
) -> Answer | None:
    """The cited answer to a question about what someone said, from their quotes; None when
    the question is not one, or the speaker has no quote on it (the caller then retrieves)."""
    from rag import prompts
    from rag.citations import check_answer
    from rag.types import Answer, Reply

    asked = speaker_question(question)
    if asked is None:
        return None
    quotes = find_speaker_quotes(index, asked, filters)[:limit]
    if not quotes:
        return None
    passages = quote_passages(quotes)
    if answerer.name == "extractive":
        reply = Reply(quote_answer(quotes))
        if on_token:
            on_token(reply.text)
    else:
        reply = answerer.respond(question, _with_speakers(passages, quotes), as_of, on_token)
    speakers = " ".join(" ".join([q.quote.speaker, *q.quote.descriptors]) for q in quotes)
    checked = check_answer(reply.text, passages, refusal_phrase=prompts.refusal(), context=speakers)
    for citation in checked.citations:
        q = next(q for q, p in zip(quotes, passages, strict=True) if p is citation.passage)
        citation.passage.quotes = [{"speaker": q.quote.speaker, "kind": q.quote.kind}]
    return Answer(
        question=question,
        answer=checked.text,
        refused=checked.refused,
        llm=answerer.name,
        citations=checked.citations,
        retrieved=passages,
        as_of=as_of.isoformat(),
        warnings=[*checked.warnings, *reply.notes],
    )


def _with_speakers(passages: list[Passage], quotes: list[StoredQuote]) -> list[Passage]:
    """Passages for a model, each headline naming the quote's speaker (the sentence may say
    only "he said")."""
    from dataclasses import replace

    return [
        replace(p, title=f"{p.title} (quote of {q.quote.speaker})")
        for p, q in zip(passages, quotes, strict=True)
    ]
