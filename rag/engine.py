"""Asking: retrieval, an answerer, and the citation checker, as a LlamaIndex query engine.

``ask(question, settings)`` is the library entry point. ``Asker`` holds one
``CitedQueryEngine`` for the process; the engine is a LlamaIndex ``BaseQueryEngine`` whose
retriever (``HybridRetriever``) hands its nodes to the synthesize step, so it composes with
LlamaIndex tooling (chat engines, query pipelines).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks.base import CallbackManager
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle, QueryType

from rag import prompts
from rag.citations import MARKER, check_answer, is_refusal
from rag.dates import DateWindow, relative_window
from rag.errors import ModelError
from rag.extractive import Candidate, ExtractiveAnswerer
from rag.llm import ChatModel, Message, OnToken, get_chat_model
from rag.quotes.answer import answer_from_quotes
from rag.quotes.index import QuoteIndex
from rag.retrieve import (
    Filters,
    HybridRetriever,
    Mode,
    NewsQuery,
    Searcher,
    diversify,
    from_node,
    retrieved_view,
    to_node,
)
from rag.settings import Settings
from rag.text import likely_english
from rag.types import Answer, Passage, Reply

NOT_ENGLISH = (
    "the question does not look English: the default embedding (WordLlama) and the "
    "extractive answerer work in English only; ask in English, or use an OpenAI-compatible "
    "model and embedding"
)
EXTRACTIVE_NOTE = "extractive answer (no LLM configured): sentences quoted from the articles"
GATE_NOTE = (
    "the local model was not asked: the passages are far from answering the question "
    "(RAG_LOCAL_GATE=off asks it anyway)"
)
FALLBACK_NOTE = (
    "the local model found no answer; these are the sentences the extractive answerer "
    "picks from the passages (RAG_LOCAL_FALLBACK=off keeps the model's refusal)"
)
UNSUPPORTED_NOTE = (
    "the citation checker left out all of the local model's answer; these are the sentences "
    "the extractive answerer picks from the passages (RAG_LOCAL_FALLBACK=off keeps the refusal)"
)
FALLBACK_NOTES = (FALLBACK_NOTE, UNSUPPORTED_NOTE)


class Answerer(Protocol):
    """Produces a raw answer with [n] markers for the numbered passages."""

    name: str

    def respond(
        self, question: str, passages: list[Passage], as_of: date, on_token: OnToken | None
    ) -> Reply:
        """Raw answer text, and notes for the reader."""
        ...


@dataclass
class Extractive:
    """The extractive answerer as an Answerer."""

    searcher: Searcher
    name: str = "extractive"

    def respond(
        self, question: str, passages: list[Passage], as_of: date, on_token: OnToken | None
    ) -> Reply:
        """Best-covering sentences, or the refusal."""
        text = extractive_answerer(self.searcher).answer(question, passages, prompts.refusal())
        if on_token:
            on_token(text)
        return Reply(text)


def extractive_answerer(searcher: Searcher) -> ExtractiveAnswerer:
    """The extractive answerer over the searcher's BM25 index and (local) embedder."""
    embedder = searcher.embedder
    local = embedder is not None and not embedder.name.startswith("openai")
    embed = embedder.embed if embedder is not None and local else None
    return ExtractiveAnswerer(searcher.bm25(), embed=embed)


@dataclass
class LLMAnswerer:
    """A chat model prompted with numbered, delimited sources.

    With a ``reader`` (the extractive answerer; local models): the model reads only the
    ``sentences`` best sentences for the question, by the reader's sentence model, each
    source keeping its number (0 = whole passages): on a CPU, reading the prompt is most of a
    local model's time (README, Local models). With ``gate`` as well, a question whose
    passages the reader's answerability model finds far from answering it (under the
    model's gate) is refused before the model reads anything: a small model answers what it
    is asked, and the gate's rule keeps such refusals rare among answerable questions. With
    ``fallback`` as well, when the model refuses (or the citation checker leaves out all of
    its answer) and the reader's answerability model accepts (its operating point), the
    answer is the reader's sentences, with a note: a small model refuses questions its
    passages answer (README, Local models)."""

    model: ChatModel
    reader: ExtractiveAnswerer | None = None
    sentences: int = 0
    gate: bool = False
    fallback: bool = False
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.model.name

    def respond(
        self, question: str, passages: list[Passage], as_of: date, on_token: OnToken | None
    ) -> Reply:
        """The model's reply to the answer prompt, its sources trimmed to the model's
        context; the refusal with GATE_NOTE when the gate keeps the question from it, the
        reader's answer with FALLBACK_NOTE when the model refuses and the reader does not,
        and with UNSUPPORTED_NOTE (after the checker's reasons) when the citation checker
        leaves out all of the model's answer and the reader does not refuse."""
        refusal = prompts.refusal()
        reading = None
        shown = passages
        if self.reader is not None and (self.gate or self.sentences or self.fallback):
            reading = self.reader.read(question, passages)
            if (
                self.gate
                and reading.candidates
                and not self.reader.models[1].admits(reading.answerable)
            ):
                if on_token:
                    on_token(refusal)
                return Reply(refusal, (GATE_NOTE,))
            if self.sentences:
                shown = focused(passages, reading.candidates, self.sentences)
        messages = answer_messages(question, shown, as_of)
        budget = getattr(self.model, "context_budget", None)
        count = getattr(self.model, "prompt_tokens", None)
        if budget is not None and count is not None:
            messages = fit_messages(question, shown, as_of, budget(), count)
        text = self.model.complete(messages, on_token)
        if not self.fallback or reading is None:
            return Reply(text)
        notes: tuple[str, ...] = (FALLBACK_NOTE,)
        if not is_refusal(text, refusal):
            checked = check_answer(text, passages, refusal_phrase=refusal)
            if not checked.refused:
                return Reply(text)
            notes = (*checked.warnings, UNSUPPORTED_NOTE)  # what was left out, and why
        assert self.reader is not None
        found = self.reader.answer_from(reading, refusal)
        return Reply(found, notes) if found != refusal else Reply(text)


def focused(passages: list[Passage], ranked: list[Candidate], sentences: int) -> list[Passage]:
    """The passages cut to the question's best ``sentences`` sentences (``ranked``: the
    reader's candidates, best first), each passage's sentences best first and joined by
    " … "; every passage keeps at least its best sentence (so every source number still has
    text) and its headline, outlet and date. Passages the reader finds nothing in (no
    question terms) are kept whole.

    Best first, not in article order: Qwen2.5-1.5B answers from the first sentences it reads
    and passed over the reader's best one when it sat in the middle (README, Local models:
    with the quoting rule of answer_system.txt, seed contains .739 -> .870, citation
    precision on a BBC sample .833 -> .926, newsqa sample contains .471 -> .510)."""
    if not ranked:
        return passages
    kept = ranked[:sentences]
    for n in range(1, len(passages) + 1):
        if not any(c.source == n for c in kept):
            kept += [c for c in ranked if c.source == n][:1]
    cut = []
    for n, passage in enumerate(passages, 1):
        mine = [c.text.strip() for c in kept if c.source == n]
        cut.append(replace(passage, text=" … ".join(mine)) if mine else passage)
    return cut


def fit_messages(
    question: str,
    passages: list[Passage],
    as_of: date,
    budget: int,
    count: Callable[[list[Message]], int],
) -> list[Message]:
    """The answer prompt within ``budget`` tokens: passages are cut from their ends, the longest
    first, and never the instructions or the question."""
    messages = answer_messages(question, passages, as_of)
    over = count(messages) - budget
    if over <= 0:
        return messages
    texts = [p.text for p in passages]
    for _ in range(20):
        longest = max(range(len(texts)), key=lambda i: len(texts[i]))
        if len(texts[longest]) < 80:
            break
        # about 3 characters a token, with a margin so few rounds are needed
        texts[longest] = texts[longest][: max(80, len(texts[longest]) - int(over * 4) - 40)]
        trimmed = [replace(p, text=t) for p, t in zip(passages, texts, strict=True)]
        messages = answer_messages(question, trimmed, as_of)
        over = count(messages) - budget
        if over <= 0:
            return messages
    raise ModelError("the question and its instructions do not fit the model's context")


_TAG = re.compile(r"<\s*/?\s*source\b[^>]*>?", re.IGNORECASE)
_BRACKETS = str.maketrans("[]【】", "()()")


def escape_source_text(text: str) -> str:
    """Article text as inert data: it cannot close its block or forge a source number
    (nothing in it reads as a citation marker)."""
    text = _TAG.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)
    while MARKER.search(text):  # each pass removes brackets; nested ones can form a new marker
        text = MARKER.sub(_inert_marker, text)
    return text


def _inert_marker(match: re.Match[str]) -> str:
    """``[3]`` becomes ``(3)``; ``[Source 3]`` and ``(Source 3)`` become ``Source 3``."""
    body = match.group(0).translate(_BRACKETS)
    return body[1:-1] if MARKER.fullmatch(body) else body


def _attr(value: str) -> str:
    return value.replace('"', "'").replace("<", "‹").replace(">", "›").replace("\n", " ")


def format_sources(passages: list[Passage]) -> str:
    """Numbered source blocks with outlet, date and headline."""
    blocks = []
    for n, p in enumerate(passages, 1):
        blocks.append(
            f'<source n="{n}" outlet="{_attr(p.source or "unknown")}" '
            f'date="{_attr(p.published or "unknown")}" headline="{_attr(p.title)}">\n'
            f"{escape_source_text(p.text)}\n</source>"
        )
    return "\n\n".join(blocks)


def answer_messages(question: str, passages: list[Passage], as_of: date) -> list[Message]:
    """System and user messages for the answer prompt."""
    refusal = prompts.refusal()
    return [
        {
            "role": "system",
            "content": prompts.render("answer_system", refusal=refusal, as_of=as_of.isoformat()),
        },
        {
            "role": "user",
            "content": prompts.render(
                "answer_user",
                sources=format_sources(passages),
                question=question.strip(),
            ),
        },
    ]


def resolve_llm(settings: Settings) -> str:
    """``auto`` means openai when a key or base URL is set, else extractive."""
    if settings.llm != "auto":
        return settings.llm
    if settings.openai_api_key or settings.openai_base_url:
        return "openai"
    return "extractive"


def make_answerer(
    settings: Settings, searcher: Searcher, model: ChatModel | None = None
) -> Answerer:
    """The answerer named by the settings (or wrapping the given model)."""
    if model is not None:
        return LLMAnswerer(model)
    spec = resolve_llm(settings)
    if spec == "extractive":
        return Extractive(searcher)
    if spec.startswith("local"):
        reader = extractive_answerer(searcher)
        model = get_chat_model(spec, settings)
        return LLMAnswerer(
            model,
            reader,
            settings.focus_sentences,
            settings.local_gate,
            settings.local_fallback,
        )
    return LLMAnswerer(get_chat_model(spec, settings))


@dataclass
class Question(NewsQuery):
    """One question for the engine: a ``NewsQuery`` plus where to stream the answer's tokens."""

    on_token: OnToken | None = None


@dataclass(kw_only=True)
class CitedResponse(Response):
    """A LlamaIndex Response carrying the checked Answer; source_nodes are the cited passages."""

    answer: Answer


class CitedQueryEngine(BaseQueryEngine):
    """Retriever, answerer and citation checker as a LlamaIndex query engine.

    Built once and asked many questions: ``query(Question(...))`` takes each question's date,
    filters, k and token stream; a plain string uses the defaults. ``retrieve`` returns the
    fused ranking as nodes and ``synthesize`` answers from those nodes (the top k of them,
    one chunk per article first).
    """

    def __init__(
        self,
        retriever: BaseRetriever,
        answerer: Answerer,
        *,
        k: int = 5,
        quotes: QuoteIndex | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.k = k
        self.quotes = quotes  # a question about what someone said is answered from these
        super().__init__(callback_manager)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    def question(self, query: QueryType) -> Question:
        """The query as a Question with its date and k filled in."""
        if isinstance(query, str):
            query = QueryBundle(query)
        if not isinstance(query, Question):
            base = vars(query) if isinstance(query, NewsQuery) else {"query_str": query.query_str}
            query = Question(**base)
        return replace(query, as_of=query.as_of or date.today(), k=query.k or self.k)

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """The fused ranking for the question, best first."""
        return self.retriever.retrieve(self.question(query_bundle))

    def synthesize(
        self,
        query_bundle: QueryBundle,
        nodes: list[NodeWithScore],
        additional_source_nodes: Sequence[NodeWithScore] | None = None,
    ) -> CitedResponse:
        """Answer from the top k of ``nodes`` and check the citations."""
        question = self.question(query_bundle)
        assert question.as_of is not None and question.k is not None
        ranking = [from_node(n) for n in nodes]
        shown = diversify(ranking, question.k)
        reply = self.answerer.respond(question.query_str, shown, question.as_of, question.on_token)
        checked = check_answer(reply.text, shown, refusal_phrase=prompts.refusal())
        answer = Answer(
            question=question.query_str,
            answer=checked.text,
            refused=checked.refused,
            llm=self.answerer.name,
            citations=checked.citations,
            retrieved=retrieved_view(ranking),
            as_of=question.as_of.isoformat(),
            warnings=[*checked.warnings, *reply.notes],
        )
        window = relative_window(question.query_str, question.as_of)
        if window:
            answer.warnings.insert(0, window_note(window, ranking))
        cited = [to_node(c.passage) for c in answer.citations]
        return CitedResponse(response=answer.answer, source_nodes=cited, answer=answer)

    def _query(self, query_bundle: QueryBundle) -> CitedResponse:
        asked_k = query_bundle.k if isinstance(query_bundle, NewsQuery) else None
        question = self.question(query_bundle)
        quoted = self._from_quotes(question, asked_k)
        if quoted is not None:
            cited = [to_node(c.passage) for c in quoted.citations]
            return CitedResponse(response=quoted.answer, source_nodes=cited, answer=quoted)
        return self.synthesize(question, self.retrieve(question))

    def _from_quotes(self, question: Question, k: int | None) -> Answer | None:
        """The answer from the speaker's quotes to a question about what someone said, or
        None (not such a question, no quote index, or no quote of that speaker). Every
        relevant quote is given, unless this question asks for k passages."""
        if self.quotes is None or question.mode != "hybrid" or question.as_of is None:
            return None
        return answer_from_quotes(
            question.query_str,
            self.quotes,
            self.answerer,
            as_of=question.as_of,
            filters=question.filters,
            on_token=question.on_token,
            limit=k,
        )

    async def _aquery(self, query_bundle: QueryBundle) -> CitedResponse:
        return self._query(query_bundle)

    def answer(self, query: QueryType) -> Answer:
        """The checked answer to one question."""
        response = self.query(query)
        assert isinstance(response, CitedResponse)
        return response.answer


class Asker:
    """One query engine for the process (the searcher and answerer opened once)."""

    def __init__(
        self,
        settings: Settings,
        searcher: Searcher | None = None,
        answerer: Answerer | None = None,
    ) -> None:
        self.settings = settings
        self.searcher = (searcher or Searcher(settings)).open()
        self.engine = CitedQueryEngine(
            HybridRetriever(self.searcher, k=settings.k),
            answerer or make_answerer(settings, self.searcher),
            k=settings.k,
            quotes=self.searcher.store.quotes if self.searcher.store else None,
        )

    @property
    def answerer(self) -> Answerer:
        """The answerer the engine uses."""
        return self.engine.answerer

    @answerer.setter
    def answerer(self, answerer: Answerer) -> None:
        self.engine.answerer = answerer

    def ask(
        self,
        question: str,
        *,
        as_of: date | None = None,
        filters: Filters | None = None,
        k: int | None = None,
        mode: Mode = "hybrid",
        on_token: OnToken | None = None,
    ) -> Answer:
        """One cited answer."""
        answer = self.engine.answer(
            Question(question, as_of=as_of, filters=filters, k=k, mode=mode, on_token=on_token)
        )
        if not answer.retrieved and filters and filters.describe() != "none":
            answer.warnings.insert(0, self._nothing_matches(filters))
        elif answer.refused and not likely_english(question):
            answer.warnings.insert(0, NOT_ENGLISH)
        return answer

    def _nothing_matches(self, filters: Filters) -> str:
        """Why a filtered question saw no passage: the filters left nothing."""
        note = f"no stored article matches the filters ({filters.describe()})"
        if filters.since or filters.until:
            total, undated = self.searcher.bm25().dated_counts()
            if undated:
                note += f"; {undated} of {total} articles have no date and date filters skip them"
        return note


def ask(
    question: str,
    settings: Settings | None = None,
    *,
    as_of: date | None = None,
    filters: Filters | None = None,
    k: int | None = None,
    on_token: OnToken | None = None,
) -> Answer:
    """Answer a question from the stored articles, with verified citations."""
    settings = settings or Settings.load()
    return Asker(settings).ask(question, as_of=as_of, filters=filters, k=k, on_token=on_token)


def window_note(window: DateWindow, ranking: Sequence[Passage]) -> str:
    """What the question's relative date wording ("on Friday", "last week") was read as,
    and whether any retrieved article falls in that window: a weekday in a question about
    an older story names a day of that story, not of this week."""
    read = f'"{window.phrase}" read as {window.start} to {window.end}'
    for passage in ranking:
        try:
            if passage.published and window.contains(date.fromisoformat(passage.published)):
                return read
        except ValueError:
            continue
    return f"{read}; no retrieved article is from then, so it did not change the ranking"
