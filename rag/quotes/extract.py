"""Quotations in an English news article and who said them, by regular patterns.

Direct quotes are the spans between double quotation marks (the cleaner has made every
quotation mark straight), joined across paragraphs when a paragraph ends inside a quote
and the next opens with one. A quote is speech when a cue names its speaker next to it
(`"...," he said.`, `said Paul Sheard, economist at ...`, `X told reporters: "..."`,
`according to X, Y "..."`) or when it stands as a sentence of its own after another
speaker's quote (a continuation); scare quotes and titles have neither and are left out.
Indirect speech is a sentence with a named, pronoun or role subject and a cue verb
("X said (that) ...", "..., the firm said.", "according to X, ..."). The speaker is then
resolved through the article's cast (`rag.quotes.speakers`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from rag.quotes.model import (
    INDIRECT_VERBS,
    OBJECT_VERBS,
    RULES_VERSION,
    SAY_VERBS,
    Quote,
)
from rag.quotes.speakers import (
    CAP_RUN,
    NOT_NAMES,
    ORG_WORDS,
    PRONOUNS,
    ROLE_WORDS,
    Cast,
    Person,
    clean_run,
    is_role_word,
    looks_like_org,
    organisation_of,
    split_descriptor,
)
from rag.text import sentence_spans

__all__ = ["RULES_VERSION", "Quote", "extract_quotes"]


# A sentence with none of these words is no indirect speech (checked before any pattern)
_INDIRECT_WORDS = frozenset(v.split()[0] for v in INDIRECT_VERBS)
_LOWER_WORD = re.compile(r"[a-z]+")

# Cue words that are also nouns: after an owner ("DeSantis' remarks follow ...", "Biden's
# comments came") or "of" ("elicited a number of comments") they are no cue
_NOUN_CUES = frozenset(
    {"remarks", "comments", "claims", "promises", "pledges", "vows", "estimates", "forecasts"}
    | {"questions", "notes", "demands", "calls", "urges", "counters", "hints"}
)
_VERB = (
    r"(?:pointed out|points out|"
    + "|".join(
        rf"(?<!['’]s )(?<!s['’] )(?<!\bof ){v}" if v in _NOUN_CUES else v
        for v in sorted(SAY_VERBS | OBJECT_VERBS, key=len)[::-1]
    )
    + ")"
)
# Cue verbs that may come before their subject ('," said Mr Smith'); "told CNN" and "denied
# Smith" name whom, not who
_INVERTED_VERB = (
    r"(?:pointed out|points out|"
    + "|".join(sorted(SAY_VERBS - {"told", "tells"}, key=len)[::-1])
    + ")"
)
_AUX = (
    r"(?:(?:has|have|had|also|later|then|previously|already|repeatedly|again|once|"
    r"recently|earlier|publicly|privately|simply|just|further|quickly|firmly|long|"
    r"strongly|flatly|angrily|reportedly)\s+)*"
)
_DET_ROLE = (
    r"(?:(?i:the|a|an|one|another|its|his|her|their)|[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*['’]s)"
    r"\s+(?:[\w'’.-]+\s+){0,4}?"
    r"(?:\d+-year-old|"
    + "|".join(
        sorted(
            ROLE_WORDS
            | {
                "company",
                "firm",
                "group",
                "government",
                "club",
                "side",
                "team",
                "bank",
                "ministry",
                "watchdog",
                "commission",
                "spokesperson",
                "source",
                "statement",
                "report",
                "agency",
                "union",
                "party",
                "body",
                "organisation",
                "organization",
                "regulator",
                "retailer",
                "airline",
                "carrier",
                "insurer",
                "newspaper",
                "broadcaster",
                "network",
                "court",
                "star",
                "singer",
                "actor",
                "actress",
                "player",
                "manager",
                "boss",
            },
            key=len,
        )[::-1]
    )
    + r")s?"
    r"(?:\s+(?:for|at|of|from|with)\s+(?:the\s+)?"
    + CAP_RUN.pattern
    + r"(?:\s+and\s+"  # "the MP for Sittingbourne and Sheppey"
    + CAP_RUN.pattern
    + r")?)?"
)
_NAME = r"(?:(?:[Tt]he\s+)?(?:[A-Z][\w'’-]*\s+)*?" + CAP_RUN.pattern + r")"
_PRON = r"(?:he|she|they|it|He|She|They|It|I|We|we)"
_LOWER_ROLE = "spokesman|spokeswoman|spokesperson|official|minister|analyst|economist|boss|coach"
SUBJECT = (
    rf"(?P<np>{_PRON}|{_DET_ROLE}|{_NAME}"
    rf"|(?:[a-z]+\s+){{0,2}}(?:{_LOWER_ROLE}|manager|chief)\s+{CAP_RUN.pattern})"
)
# "X, who ..., said", "X, economist at Y, said", "The British Chambers of Commerce (BCC) said"
APPOSITIVE = (
    r"(?:\s*\([A-Z][\w.&-]{0,12}\))?"
    r"(?:\s+in\s+[A-Z][\w'’-]*)?"
    r"(?P<app>,\s*(?:who\s+[^,\"]{1,80}|[^,\"]{1,100}),)?"
)

# "... he said" / "..., the official added" (subject then verb), anchored at the end of the
# text before the verb.
_SUBJECT_VERB = re.compile(rf"\b{SUBJECT}{APPOSITIVE}\s+{_AUX}(?P<verb>{_VERB})\b")
# "said Paul Sheard, economist at Lehman Brothers" (verb then subject).
_VERB_SUBJECT = re.compile(
    rf"(?P<verb>{_INVERTED_VERB})\s+(?P<np>(?:(?:the|a|an|one)\s+)?(?:[\w'’-]+\s+){{0,3}}?"
    rf"(?:{CAP_RUN.pattern}|(?:{'|'.join(sorted(ROLE_WORDS, key=len)[::-1])})s?)"
    rf"(?:\s+(?:for|at|of|from)\s+(?:the\s+)?{CAP_RUN.pattern})?)"
    r"(?:(?P<app>,\s*[^.\"]{1,120})(?=[.;!?\"]|$)|(?=\s*[.,;!?\"]|\s*$|\s+(?:on|in|at|"
    r"during|after|yesterday|today|last|this|earlier|who)\b))"
)
_ACCORDING = re.compile(rf"\b[Aa]ccording to\s+(?P<np>{_PRON}\b|{_DET_ROLE}|(?:the\s+)?{_NAME})")
_PASSIVE = re.compile(r"\b(?:is|was|were|be|been|being|are)\s+$")
_CONNECTIVE_END = re.compile(r"\b(?:but|and|yet|so|however|though|while|whereas)$", re.I)
# the sentence going on after a cue set off by commas: ", he says, is …", ", and …"
_PARENTHETICAL = re.compile(r",\s+(?:[\w'’-]+\s+){2}[\w'’-]")
# "that" after the cue and what may stand between them: an object or an adverbial ("told
# MPs on Tuesday that", "said in a statement that"), not a clause of its own ("said the
# survey showed that", "said he was pleased to give cash to a party that")
_THAT = re.compile(
    r"^\s*(?:(?:the\s+)?(?:[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*|reporters|journalists|him|her"
    r"|them|us|me|the\s+\w+)(?:['’]s)?(?:\s+(?:[\w'’-]+\s+){0,4}?(?:programme|website|"
    r"newspaper|agency|magazine|channel|show|conference|committee))?\s+)?"
    r"(?:(?:to|on|in|at|during|last|this|yesterday|today|earlier|later|also|again|recently|"
    r"previously|repeatedly|late|early)\b[^,\"]{0,50}?\s+)?that\s+"
)
_TOLD_OBJECT = re.compile(
    r"(?:the\s+)?(?:(?:[A-Z][\w'’.-]*|BBC|MPs)\s+){0,5}?(?:[A-Z][\w'’.-]*|reporters|journalists"
    r"|MPs|lawmakers|parliament|delegates|shareholders|investors|analysts|fans|viewers|"
    r"listeners|readers|him|her|them|us|me|the\s+\w+)(?:'s\s+(?:[\w-]+\s+){0,3}?programme)?\s+"
)
_SUBORDINATE = re.compile(
    r"(?:as|when|while|after|before|since|although|though|because|if|once|until|whereas)\s",
    re.I,
)
_LEAD_IN = re.compile(
    r"^(?:(?:but|and|however|meanwhile|yesterday|today|now|so|still|instead"
    r"|also|separately|earlier|later)\b,?\s+|[^,\"]{1,120},\s+)",
    re.I,
)
# A phrase that says what someone did or when, not who they are: a relative clause ("who
# said"), a time or place ("During the interview", "in Harrogate", "at a news conference"),
# or a participle with its own object ("Speaking to the BBC", "Asked about", "adding that");
# "managing director", "from the IFS", "at Citigroup" and "elected president in 2004" still
# describe.
_NOT_DESCRIPTION = re.compile(
    r"(?:who|whom|whose|during|in|on|after|before|while|when|with|since)\b"
    r"|at\s+(?:a|an|the|their|his|her|its)\b"
    r"|\w+(?:ing|ed)\s+(?:\w+ly\s+)?(?:to|about|on|in|at|that|the|a|an|his|her|their|its|by"
    r"|for|with|why|how|what)\b"
    r"|asked\b",
    re.IGNORECASE,
)
_GENERIC = frozenset(
    [
        "analysts",
        "officials",
        "experts",
        "critics",
        "sources",
        "reports",
        "figures",
        "data",
        "polls",
        "studies",
        "observers",
        "economists",
        "people",
        "residents",
        "witnesses",
        "campaigners",
        "researchers",
        "scientists",
        "officers",
        "police",
        "others",
        "many",
        "some",
        "most",
        "few",
    ]
)
# "..., the firm said." / "..., said Mr Smith." at the end of a sentence.
_TAIL_CUE = re.compile(
    rf",\"?\s+(?:{SUBJECT}\s+{_AUX}(?P<verb>{_VERB})(?:\s+(?!that\b)[^,]{{0,40}})?"
    rf"|(?P<verb2>{_INVERTED_VERB})\s+"
    rf"(?P<np2>(?:the\s+|a\s+)?(?:[\w'’-]+\s+){{0,3}}?{CAP_RUN.pattern})"
    r"(?:\s+(?:on|in|at|during|after|before|yesterday|today|last|this|earlier|later|"
    r"recently|when|while|as|to|from|of|for|with)\b[^,]{0,40})?)"
    r"[.!?]?$"
)
# "X said (that) ..." at the start of a sentence (or after a lead-in).
_LEAD_CUE = re.compile(rf"{SUBJECT}{APPOSITIVE}\s+{_AUX}(?P<verb>{_VERB})\b")
# `," chairman and chief executive Richard Parsons said`: any short subject before the verb
_POST_SUBJECT = re.compile(
    rf"(?P<np>(?:[\w'’&.-]+\s+){{0,7}}?[\w'’&.-]+){APPOSITIVE}\s+{_AUX}(?P<verb>{_VERB})\b"
)
# "Howard Archer, economist at Global Insight said": an appositive with no closing comma
_NAME_DESC_VERB = re.compile(
    rf"(?P<np>{CAP_RUN.pattern}),\s+(?P<desc>(?:an?\s+|the\s+)?(?:[\w'’&.-]+\s+){{0,9}}?"
    rf"[\w'’&.-]+)\s+(?P<verb>said|says|told|added|warned|argued)\b"
)
# '," Dr. Robert Eitches, an allergist, immunologist and attending physician at ..., told
# CNN': right after a quote, a name and a description too long (or with commas) for
# APPOSITIVE
_NAME_LONG_DESC_VERB = re.compile(
    rf"(?P<np>{CAP_RUN.pattern}),\s+(?P<app>[^\"]{{1,220}}?),\s+{_AUX}(?P<verb>{_VERB})\b"
)
# '," Patrol Chief James Hall with the New York Police Department said': too long a subject
# for _POST_SUBJECT, with no comma for the one above
_NAME_WITH_ORG_VERB = re.compile(
    rf"(?P<np>{CAP_RUN.pattern})\s+(?P<app>(?:with|of|at|from|for)\s+(?:the\s+)?"
    rf"{CAP_RUN.pattern})\s+{_AUX}(?P<verb>{_VERB})\b"
)
_CUE_GAP = re.compile(r"^\s*[,—-]?\s*")
_COMMA_GAP = re.compile(r"^\s*(?:,\s*)?")
_ADVERBIAL = re.compile(
    r"(?:(?:on|in|at|during|last|this|earlier|yesterday|today|on\s+\w+)\b[^,]{0,30}?"
    r"(?:,\s*|\s+(?=[a-z]+\s)))?"
)
_TRAILING_NAME = re.compile(CAP_RUN.pattern + r"$")
_LEADING_FILLER = re.compile(
    r"^(?:(?:but|and|however|meanwhile|yet|so|now|also|later|earlier)\b,?\s*)+", re.I
)
# a capitalised run and "and" before a name: the first half of "Securities and Exchange
# Commission", "Munich Re and Swiss Re"
_JOINED = re.compile(
    r"(?:(?:Both\s+)?(?:[Tt]he\s+)?)?(?P<run>[A-Z][\w'’.-]*(?:\s+(?:of|for|[A-Z][\w'’.-]*))*)"
    r"\s+(?P<conj>and|&)"
)
_OFFICE = re.compile(r"^the\s+[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*\s+of\s+(?:the\s+)?[A-Z]", re.I)
_OFFICES = frozenset(
    {"archbishop", "bishop", "mayor", "governor", "chairman", "chairwoman", "chair"}
    | {"president", "chancellor", "secretary", "minister", "director", "head", "leader"}
    | {"chief", "commissioner"}
)
_CAME_AFTER = re.compile(
    r"^.*?\b(?:comes?|came|follows?|followed)\s+(?:(?:shortly|just|soon|only)\s+)?"
    r"(?:as|after|amid|when|while)\s+",
    re.I,
)
# a subject phrase's first word that makes it a description ("the spokesman", "its CEO")
_DETERMINERS = frozenset({"the", "a", "an", "one", "another", "its", "his", "her", "their", "our"})
# a subject that is one such word, or a demonstrative, alone: no subject ("The forecast has")
_BARE_SUBJECTS = _DETERMINERS | {"this", "that", "these", "those"}
_BY_NAME = re.compile(rf"\b(?:by|of|from)\s+(?:the\s+)?({CAP_RUN.pattern})")
_NAME_OF = re.compile(rf"({CAP_RUN.pattern})\s+(of|at|from)\s+(the\s+{CAP_RUN.pattern})$")
# A nationality used as a noun for a person: "the Russian", "the Spaniard", "the Frenchman"
_DEMONYM = re.compile(r"^(?!Vatican)[A-Z][a-z]+(?:ian|ese|man|ean|yan|ican|ard)$")
# Role nouns that any person may be called, whatever else the article calls them.
_ANY_ROLE = frozenset({"", "official", "year-old", "star", "player", "leader", "chief", "head"})
# The subject a sentence opens with: "But Hantuchova is ...", "And ex-Tory education
# secretary Gillian Shepherd remembered ..."
_SENTENCE_SUBJECT = re.compile(
    r"(?:(?:And|But|However|Meanwhile|Yet|Still|So)\b,?\s+)?(?:[a-z][\w-]*\s+){0,3}"
    rf"(?P<name>{CAP_RUN.pattern})\s+(?:[a-z]\w*)"
)
_PRONOUN_BEFORE = re.compile(r"\b(he|she|they|it|He|She|They|It)\s+(?:[a-z]+\s+)?$")
_COLON_QUOTE = re.compile(r'^[^":.]{0,80}:\s*"')
_SENTENCE_STOP = re.compile(r"[.!?]\s+")
# Nouns that name an organisation ("the bookmaker" does not: it may be a person or a firm)
_ORG_HEADS_TEXT = """
    company firm group government organisation organization club office ministry
    department bank agency union party body regulator retailer airline carrier insurer
    newspaper broadcaster network court watchdog commission side team council authority
    committee association federation
"""
_ORG_HEADS = frozenset(_ORG_HEADS_TEXT.split())
_DOCUMENTS = frozenset({"statement", "report", "letter", "release", "filing", "document"})
_ORG_NOUNS = frozenset({"company", "firm", "group", "government", "organisation", "club"})
_VERBISH = frozenset({"was", "is", "were", "are", "had", "has", "have", "be", "been", "will"})
_POSSESSIVE = re.compile(r"[A-Za-z]['’]s$")
_DETERMINER = re.compile(r"^(?:the|a|an|one|another)\s+", re.I)
_SENTENCE_END = re.compile(r'[.?!]\s|"')
_QUOTE_PAIR = re.compile(r'"')
_WORDS = re.compile(r"[\w'’-]+")


def extract_quotes(article_id: str, text: str) -> list[Quote]:
    """Every direct and indirect quotation in ``text`` with its resolved speaker."""
    return _Extractor(article_id, text).run()


def quotes_or_fault(article_id: str, text: str) -> tuple[list[Quote], str]:
    """``extract_quotes``, or no quotes and the fault ("RecursionError: ...") when the
    extractor fails on this text: one article's text never stops an ingest."""
    try:
        return extract_quotes(article_id, text), ""
    except Exception as exc:
        return [], f"{type(exc).__name__}: {exc}"


@dataclass
class _Span:
    """A quoted span: the text between the marks (start, end) and the marks' positions."""

    start: int
    end: int
    open: int
    close: int  # position after the closing mark (or the paragraph end)


class _Extractor:
    def __init__(self, article_id: str, text: str) -> None:
        self.article_id = article_id
        self.text = text
        self.cast = Cast.of(text)
        self.sentences = sentence_spans(text, quote_aware=False)
        self._starts = [a for a, _ in self.sentences]
        self.quotes: list[Quote] = []
        self._people: list[Person] = []  # the speaker of each quote
        self.quoted: set[int] = set()  # offsets of the words inside quotation marks

    def run(self) -> list[Quote]:
        spans = quote_spans(self.text)
        self.quoted = {
            m.start() for s in spans for m in _WORDS.finditer(self.text, s.open, s.close)
        }
        items: list[tuple[int, str, Any]] = [(s.start, "q", s) for s in spans]
        items += [(a, "s", (a, b)) for a, b in self.sentences]
        for _, kind, item in sorted(items, key=lambda x: (x[0], x[1])):
            if kind == "q":
                self._direct(item, spans)
            else:
                self._indirect(*item)
        for quote, person in zip(self.quotes, self._people, strict=True):
            # descriptors as the whole article gives them, not only those seen so far
            quote.descriptors = list(person.descriptors)
            quote.organisation = person.organisation
        return self.quotes

    # -- direct quotes ------------------------------------------------------------------

    def _sentence_of(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and offset < self.sentences[i][1]:
            return self.sentences[i]
        return offset, offset

    def _direct(self, span: _Span, spans: list[_Span]) -> None:
        text = self.text
        sent_a, _ = self._sentence_of(span.open)
        _, sent_b = self._sentence_of(max(span.close - 1, span.open))
        prev_close = max((s.close for s in spans if s.close <= span.open), default=0)
        next_open = min((s.open for s in spans if s.open >= span.close), default=len(text))
        pre_start = max(sent_a, prev_close, text.rfind("\n", 0, span.open) + 1)
        pre = text[pre_start : span.open]
        post_end = min(max(sent_b, span.close), next_open, _line_end(text, span.close))
        post = text[span.close : post_end]
        words = len(_WORDS.findall(text[span.start : span.end]))
        if words == 0:
            return
        closed = span.close == span.end + 1
        found = (
            (self._post_cue(post, span.close) if closed else None)
            or self._pre_cue(pre, pre_start, span)
            or self._tail_cue(post, span.close)
        )
        standalone = not pre.strip(" \t(—-:")
        if found is None:
            prev = self.quotes[-1] if self.quotes else None
            if prev is not None and prev.kind == "direct" and prev.start >= sent_a:
                # another part of a sentence whose first quote has its cue
                self._add(span.start, span.end, "direct", prev.cue, self._people[-1], prev.via)
                return
            if not standalone or words < 3:
                return  # a scare quote or a title inside a sentence
            prev = self.quotes[-1] if self.quotes else None
            if prev is None or span.open - prev.end > 600:
                return
            person = self._subject_before(span.open, "person", prev.end) or self._people[-1]
            self._add(span.start, span.end, "direct", "", person, "continuation")
            return
        cue, speaker, via, verb_at = found
        # a short partial quote is speech only right after its cue ("called it "a farce"")
        near = verb_at < span.open and span.open - verb_at <= 40
        if words < 3 and not standalone and (not near or _title_case(text, span)):
            return
        if via == "pronoun":
            want = PRONOUNS.get(cue_subject(text, verb_at), "")
            prev_end = self.quotes[-1].end if self.quotes else 0
            speaker = self._subject_before(span.open, want, prev_end) or speaker
        self._add(span.start, span.end, "direct", cue, speaker, via)

    def _subject_before(self, at: int, want: str, after: int) -> Person | None:
        """The named subject of the sentence just before ``at``, when that sentence holds
        no quote and comes after ``after`` (the last quote): 'Williams was also far from
        content. "...," she said.' speaks for Williams, not the last speaker."""
        i = bisect.bisect_right(self._starts, at) - 1
        if i < 1 or (self.sentences[i][0] < at and self.text[self.sentences[i][0] : at].strip()):
            return None  # the quote does not open its sentence
        a, b = self.sentences[i - 1]
        if a < after or any(a <= q.start < b for q in self.quotes):
            return None
        m = _SENTENCE_SUBJECT.match(self.text, a, b)
        if m is None:
            return None
        _, name = clean_run(m.group("name"))
        _, name = split_descriptor(name)
        person = self.cast.lookup(name, at) if name else None
        if person is None or person.is_org or not _compatible_with(person, want):
            return None
        return person

    def _post_cue(self, post: str, at: int) -> tuple[str, Person, str, int] | None:
        """A cue right after the closing mark: `," he said`, `," said X`."""
        m = _CUE_GAP.match(post)
        rest_at = m.end() if m else 0
        rest = post[rest_at:]
        sv = _SUBJECT_VERB.match(rest) or _POST_SUBJECT.match(rest)
        if sv:
            found = self._speaker(sv.group("np"), sv.group("app"), at + rest_at)
            if found:
                return sv.group("verb"), found[0], found[1], at + rest_at + sv.start("verb")
        nd = _NAME_LONG_DESC_VERB.match(rest) or _NAME_WITH_ORG_VERB.match(rest)
        if nd:
            found = self._speaker(nd.group("np"), f", {nd.group('app')},", at + rest_at)
            if found:
                return nd.group("verb"), found[0], found[1], at + rest_at + nd.start("verb")
        vs = _VERB_SUBJECT.match(rest)
        if vs:
            found = self._speaker(vs.group("np"), vs.group("app"), at + rest_at)
            if found:
                return vs.group("verb"), found[0], found[1], at + rest_at
        return None

    def _tail_cue(self, post: str, at: int) -> tuple[str, Person, str, int] | None:
        """A cue ending the sentence: `... "a lot smarter" in ..., a Labour backbencher has
        said.`"""
        tail = _TAIL_CUE.search(post, max(0, len(post) - 160))
        if tail is None:
            return None
        np_text = tail.group("np") or tail.group("np2")
        verb = tail.group("verb") or tail.group("verb2")
        found = self._speaker(np_text, None, at + tail.start()) if np_text else None
        return (verb, found[0], found[1], at + tail.start()) if found else None

    def _pre_cue(self, pre: str, pre_at: int, span: _Span) -> tuple[str, Person, str, int] | None:
        """A cue before the opening mark: `He said: "`, `X told reporters "`, `according to
        X, Y "..."`, or a partial quote inside reported speech."""
        best: tuple[str, Person, str, int] | None = None
        for m in _SUBJECT_VERB.finditer(pre):
            if _PASSIVE.search(pre[: m.start("verb")]):
                continue
            if not _subject_starts_clause(pre, m.start("np")):
                continue
            found = self._speaker(m.group("np"), m.group("app"), pre_at + m.start())
            if found:
                best = (m.group("verb"), found[0], found[1], pre_at + m.start("verb"))
        for m in _NAME_DESC_VERB.finditer(pre):
            at = pre_at + m.start("verb")
            if (
                best is None
                or best[3] < at
                # "Mark Serwotka, the leader of the PCS union said": the name, not the role
                or (best[3] == at and best[2] == "role" and _named_subject(pre, m))
            ):
                found = self._speaker(m.group("np"), f", {m.group('desc')},", pre_at + m.start())
                if found:
                    best = (m.group("verb"), found[0], found[1], pre_at + m.start("verb"))
        acc = None
        for acc in _ACCORDING.finditer(pre):  # noqa: B007 (the last one)
            pass
        if acc is not None and (best is None or best[3] < pre_at + acc.start()):
            found = self._speaker(acc.group("np"), None, pre_at + acc.start())
            if found:
                best = ("according to", found[0], found[1], pre_at + acc.start())
        return best

    # -- indirect speech -----------------------------------------------------------------

    def _indirect(self, a: int, b: int) -> None:
        sentence = self.text[a:b]
        if "ccording to" not in sentence and _INDIRECT_WORDS.isdisjoint(
            _LOWER_WORD.findall(sentence)
        ):
            return  # no cue: every pattern below needs "according to" or a cue verb
        if len(_WORDS.findall(sentence)) < 5:
            return
        acc = _ACCORDING.search(sentence)
        if acc and (acc.start() < 3 or sentence[: acc.start()].strip().endswith(",")):
            found = self._speaker(acc.group("np"), None, a + acc.start())
            comma = sentence.find(",", acc.end())
            # "Y, but, according to X, Z.": what X says follows, as after a sentence's opening
            opens = acc.start() < 3 or _CONNECTIVE_END.search(sentence[: acc.start()].rstrip(" ,"))
            if found and not opens:  # "Y, according to X."
                self._add_content(a, a + acc.start(), "according to", found)
                return
            if found and comma > 0:  # "According to X, Y."
                self._add_content(a + comma + 1, b, "according to", found)
                return
        lead = _LEAD_IN.match(sentence)
        for offset in (0, lead.end()) if lead else (0,):
            # "Matt Williams, a fund manager at Perpetual Trustees said the stake ...": the
            # name, not the role (nor the name as what a tail cue reports)
            named = _NAME_DESC_VERB.match(sentence, offset)
            if named and named.group("verb") in INDIRECT_VERBS and _named_subject(sentence, named):
                verb = named.group("verb")
                content = self._content_start(sentence, named.end(), verb)
                desc = f", {named.group('desc')},"
                found = self._speaker(named.group("np"), desc, a + named.start())
                if found and content is not None:
                    self._add_content(a + content, b, verb, found)
                    return
        # "..., the firm said." / "..., said Mr Smith."
        tail_from = max(0, len(sentence) - 160)
        tail = _TAIL_CUE.search(sentence, tail_from)
        if tail:
            np_text = tail.group("np") or tail.group("np2")
            verb = tail.group("verb") or tail.group("verb2")
            if verb in INDIRECT_VERBS and np_text:
                found = self._speaker(np_text, None, a + tail.start())
                if found and tail.start() > 20:
                    start = _quote_sentence_start(sentence, tail.start())
                    self._add_content(a + start, a + tail.start(), verb, found)
                    return
        for offset in (0, lead.end() if lead else -1):
            if offset < 0:
                continue
            m = _LEAD_CUE.match(sentence, offset) or _POST_SUBJECT.match(sentence, offset)
            if not m or m.group("verb") not in INDIRECT_VERBS:
                continue
            np_text = m.group("np")
            if np_text.lower() in _GENERIC or np_text.split()[-1].lower() in _GENERIC:
                return
            found = self._speaker(np_text, m.group("app"), a + m.start())
            if not found:
                return
            verb = m.group("verb")
            if offset and _PARENTHETICAL.match(sentence, m.end()):
                # "This, he says, is part of the reason…", "Cyclists will get a lane, Ruiz
                # said, and the toll booth will become a shelter.": a cue set off by commas
                # inside the sentence; what was said is the whole sentence
                self._add_content(a, b, verb, found)
                return
            content = self._content_start(sentence, m.end(), verb)
            if content is None:
                return
            comma = sentence.find(",", content)
            if _SUBORDINATE.match(sentence, offset) and comma > 0:
                # "As Mr Brown announced the date, Ernst & Young urged him ...": what he
                # announced ends with its clause
                b = a + comma
            self._add_content(a + content, b, verb, found)
            return

    def _content_start(self, sentence: str, after: int, verb: str) -> int | None:
        """Where the reported content starts after the cue verb."""
        rest = sentence[after:]
        if _COLON_QUOTE.match(rest):
            return None  # 'she added: "..."', 'told the BBC: "..."': a direct quote follows
        that = _THAT.match(rest)
        if that:
            return after + that.end()
        if verb in OBJECT_VERBS:  # "X denied Y": the content is the object
            return after + (len(rest) - len(rest.lstrip()))
        skip = _COMMA_GAP.match(rest)
        pos = skip.end() if skip else 0
        if verb.startswith(("told", "tell", "assur", "warn", "promis", "urg")):
            obj = _TOLD_OBJECT.match(rest, pos)
            if obj:
                pos = obj.end()
        adverbial = _ADVERBIAL.match(rest, pos)
        if adverbial and adverbial.group() and rest[pos:].startswith(("on ", "in a ", "in an ")):
            pos = adverbial.end()
        return after + pos if len(_WORDS.findall(rest[pos:])) >= 3 else None

    def _add_content(self, start: int, end: int, cue: str, found: tuple[Person, str]) -> None:
        start, end = _trim(self.text, start, end)
        words = [m.start() for m in _WORDS.finditer(self.text, start, end)]
        if len(words) < 3:
            return
        if sum(w in self.quoted for w in words) >= 0.8 * len(words):
            return  # the reported clause is (nearly) all quotation: the direct quote has it
        self._add(start, end, "indirect", cue, found[0], found[1])

    # -- speakers ------------------------------------------------------------------------

    def _speaker(
        self, np_text: str, appositive: str | None, at: int, *, swapped: bool = False
    ) -> tuple[Person, str] | None:
        """The person an attribution's subject refers to, and how it was identified.
        ``swapped``: the subject was the appositive of the phrase first read, which is not
        read again as the subject ("Its CEO, CC Wei, said": each could pass for the name)."""
        np_text = _LEADING_FILLER.sub("", np_text.strip(" ,"))
        # "The move came after France and Germany vowed": who vowed, not the move
        np_text = _CAME_AFTER.sub("", np_text)
        low = np_text.lower()
        if not low:
            return None
        if _VERBISH & set(low.split()):
            return None  # "the rapper was": not a subject phrase
        if low in _BARE_SUBJECTS:
            return None  # "The forecast has left ...": "forecast" is the noun, not the cue
        if low in PRONOUNS:
            want = PRONOUNS[low]
            if want in {"", "org"} and low in {"i", "we"}:
                return None
            person = self.cast.last_speaker(at, want or "") or self.cast.last_mention(
                at, want or "person"
            )
            if low in {"they"}:
                person = self.cast.last_speaker(at) or self.cast.last_mention(at, "org")
                if person is not None and _one_person(person):
                    return None  # "They also pointed out" after John Snow spoke: others
            return (person, "pronoun") if person else None
        words = np_text.split()
        possessor = ""
        owner = [
            i
            for i in range(len(words) - 1)
            if _POSSESSIVE.search(words[i])
            and words[i + 1][:1].isupper()
            and not _owned_office(words[i + 1 :])
        ]
        if owner:  # "Amazon's Robin Terrell", "Manchester United's Alex Ferguson"
            possessor = " ".join(words[: owner[-1] + 1])[:-2]
            words = words[owner[-1] + 1 :]
            np_text = " ".join(words)
            low = np_text.lower()
        determiner = low.split()[0] in _DETERMINERS
        if determiner and len(words) == 2 and _DEMONYM.search(words[1]):
            # "the Russian revealed": a player introduced by name, referred to by nationality
            person = self._unlike("", at)
            return (person, "role") if person else None
        # "The mayor, Ana Lopes, said", "The Bishop of Durham, the Rt Rev Dr Tom Wright,
        # described": the name is in the appositive
        named_after = _appositive_name(appositive or "")
        if determiner and len(words) > 1 and is_role_word(words[1]):
            if named_after and not swapped:
                return self._speaker(named_after, f", {np_text},", at, swapped=True)
            if not named_after:
                return self._role(np_text, at)  # "The MP for Sittingbourne and Sheppey"
        if determiner and words[0].lower() == "the" and _proper(words[1:]):
            words = words[1:]  # "the Bank of England", "The Electoral Commission"
            np_text = " ".join(words)
        elif determiner:
            if named_after and not swapped:
                return self._speaker(named_after, f", {np_text},", at, swapped=True)
            return self._role(np_text, at)
        if low in _GENERIC or words[-1].lower() in _GENERIC:
            return None
        of = _NAME_OF.match(np_text)
        if of and " " in of.group(1) and not looks_like_org(of.group(1)):
            # "Lt Col Eric Schnaible of the PCO": a person and the organisation they are from
            return self._speaker(of.group(1), f", {of.group(2)} {of.group(3)},", at)
        # the name is the last run of capitalised words; the words before describe it
        tail = _TRAILING_NAME.search(np_text)
        if tail is None:
            return self._role(np_text, at) if is_role_word(words[-1]) else None
        head = _LEADING_FILLER.sub("", np_text[: tail.start()]).strip(" ,")
        title, name = clean_run(tail.group())
        descriptor, name = split_descriptor(name)
        joined = _JOINED.fullmatch(head)
        if joined and name and not descriptor:
            # "The Department of Trade and Industry", "GM and Ford": one name, or two
            # speaking together, not "Industry" described as "Department of Trade and"
            name, head = f"{joined.group('run')} {joined.group('conj')} {name}", ""
        elif head.endswith((" but", " and")):
            head = ""  # "Unions oppose the plans but Mr Brown said": a clause, not who he is
        descriptor = " ".join(x for x in (head, descriptor) if x)
        if not name or name.lower() in NOT_NAMES:
            return None
        if is_role_word(name.split()[-1]):
            return self._role(np_text, at)
        app = appositive.strip(" ,") if appositive else ""
        if (
            _person_like(app)
            and not swapped
            and (looks_like_org(name) or self.cast.lookup(name) is None)
        ):
            # "director of the Victims of Crime Trust, Norman Brennan, accused ..."
            return self._speaker(app, f", {np_text},", at, swapped=True)
        person = self.cast.lookup(name, at)
        if person is None:
            person = self.cast.add(
                name,
                is_org=looks_like_org(name) or (len(name.split()) == 1 and not title),
                before=at,
            )
        if possessor:
            person.describe(f"{possessor}'s", possessor)
        for described in (descriptor, (appositive or "").strip(" ,")):
            if not described or _NOT_DESCRIPTION.match(described) or len(described.split()) > 12:
                continue
            org = organisation_of(described)
            person.describe(described, org)
            if org:
                self.cast.organisation(org, at)
        self.cast.mentions.append((at, person))
        return person, "name"

    def _role(self, np_text: str, at: int) -> tuple[Person, str] | None:
        """ "the spokesman" -> the last speaker described as one; "a spokeswoman for the BSA"
        -> an unnamed speaker for the BSA."""
        words = np_text.split()
        det = words[0].lower()
        head = words[-1].lower().rstrip("s")
        org = organisation_of(np_text)
        for w in words:
            if w.lower().rstrip("s") in ROLE_WORDS | _ORG_NOUNS | _DOCUMENTS:
                head = w.lower().rstrip("s")
                break
        if any(w.endswith("year-old") for w in words):
            head = "year-old"
        by = _BY_NAME.search(np_text)
        owned = any(_POSSESSIVE.search(w) for w in words[1:-1])
        if det == "the" and owned and head not in ROLE_WORDS | _DOCUMENTS:
            # "the prime minister's office": an office of its own, not the last organisation
            label = _DETERMINER.sub("", np_text)
            return Person(label, organisation=org, gender="org", is_org=True), "role"
        if head in _DOCUMENTS and (by or org):
            # "a statement issued by Lycos", "a BBC statement": it speaks for its author
            return self._speaker(by.group(1) if by else org, None, at)
        if det in {"the", "its", "his", "her", "their", "our"}:
            person = self.cast.by_role(head, at)
            # "the Archbishop of Canterbury": an office one person holds, not the last man
            # named ("The star of Rain Man said" is the star named before)
            office = head in _OFFICES and _OFFICE.search(np_text)
            if person is None and (head in ROLE_WORDS or head == "year-old") and not office:
                person = self._unlike(head, at)
            if person is None and head not in ROLE_WORDS:
                person = (
                    self.cast.last_speaker(at, "org")
                    or self.cast.last_mention(at, "org")
                    # "In a statement from Lycos Europe ..., the company denied": a company
                    # whose name does not say so, named in this sentence or the one before
                    or self._near_mention(at)
                )
            if person is not None:
                return person, "role"
        if org:
            self.cast.organisation(org, at)
        label = _DETERMINER.sub("", np_text)
        person = Person(label, organisation=org, is_org=head in _ORG_HEADS)
        if person.is_org:
            person.gender = "org"
        if org:
            person.describe(label, org)
        return person, "role"

    def _near_mention(self, at: int) -> Person | None:
        person = self.cast.last_mention(at, "unknown")
        i = bisect.bisect_right(self._starts, at) - 1
        since = self.sentences[i - 1][0] if i >= 1 else 0
        found = [off for off, p in self.cast.mentions if p is person and since <= off < at]
        return person if found else None

    def _unlike(self, head: str, at: int) -> Person | None:
        """The last person speaking or named before ``at`` who is not described by another
        role ("the defender" is not the man introduced as "City boss")."""
        for pool in (self.cast.speakers, self.cast.mentions):
            for off, person in reversed(pool):
                if off >= at or person.is_org:
                    continue
                roles = {
                    w.lower().rstrip("s")
                    for d in person.descriptors
                    for w in d.split()
                    if is_role_word(w)
                }
                if not roles or head in roles or head in _ANY_ROLE:
                    return person
        return None

    def _add(self, start: int, end: int, kind: str, cue: str, person: Person, via: str) -> None:
        start, end = _trim(self.text, start, end)
        if start >= end:
            return
        if via == "pronoun" and _named_in(person, self.text[start:end]):
            return  # "He said Mr Brown had made ...": whoever "he" is, not Mr Brown
        self.cast.speakers.append((start, person))
        self._people.append(person)
        quote = Quote(self.article_id, self.text[start:end], start, end, kind, cue, person.name)
        quote.via = via
        quote.context_start = self._sentence_of(start)[0]
        quote.context_end = max(self._sentence_of(max(end - 1, start))[1], end)
        if self.text[quote.context_end : quote.context_end + 1] == '"':
            quote.context_end += 1
        self.quotes.append(quote)


def _named_in(person: Person, said: str) -> bool:
    """A man or a woman named (by surname) in what was said: not who said it. A company
    speaks of itself by name ("Deutsche Boerse is convinced that ..."); a person does not."""
    surname = person.name.split()[-1] if person.name and not person.is_org else ""
    return len(surname) > 2 and re.search(rf"\b{re.escape(surname)}\b", said) is not None


def _one_person(person: Person) -> bool:
    """A man or a woman, or someone named by a full name ("John Snow"): not what "they" who
    spoke refers to, unlike "MPs" or "Ministry of Defence lawyers"."""
    if person.is_org:
        return False
    words = person.name.split()
    return person.gender in {"m", "f"} or (len(words) >= 2 and all(w[:1].isupper() for w in words))


def quote_spans(text: str) -> list[_Span]:
    """Spans between double quotation marks, one per quotation.

    A quotation that runs over paragraphs has an opening mark on each paragraph and one
    closing mark at its end (news style; some corpora have lost the paragraph breaks, so
    a reopening mark may follow a sentence on the same line): such paragraphs join into
    one span. A paragraph left open that is followed by narration ends at its last
    sentence before the narration.
    """
    marks = [m.start() for m in _QUOTE_PAIR.finditer(text)]
    spans: list[_Span] = []
    i = 0
    while i < len(marks):
        opening = marks[i]
        if opening + 1 >= len(text) or text[opening + 1].isspace():
            i += 1  # a stray closing mark
            continue
        cursor = opening
        i += 1
        while True:
            if i >= len(marks):
                end = _open_end(text, cursor + 1, len(text))
                spans.append(_Span(opening + 1, end, opening, end))
                break
            mark = marks[i]
            end = _open_end(text, cursor + 1, mark)
            if end < mark:  # the quotation stopped before narration; this mark opens another
                spans.append(_Span(opening + 1, end, opening, end))
                break
            if _closes(text, mark):
                spans.append(_Span(opening + 1, mark, opening, mark + 1))
                i += 1
                break
            cursor = mark  # a reopening mark: the quotation goes on
            i += 1
    return spans


_SAYS = re.compile(r"\b(?:said|says|told|added|according to|explained)\b")
_FIRST_PERSON = re.compile(r"\b(?:I|we|We|my|My|our|Our|us|me|you|You|your)\b|\bI'")


def _narration(sentence: str) -> bool:
    """A sentence that reports speech rather than being it: a cue and no first person."""
    head = sentence[:300]
    end = _SENTENCE_END.search(head)
    head = head[: end.start()] if end else head
    return bool(_SAYS.search(head)) and not _FIRST_PERSON.search(head)


def _closes(text: str, mark: int) -> bool:
    """A closing mark follows a non-space; an opening one follows a space or line start."""
    return mark > 0 and not text[mark - 1].isspace()


_BOUNDARY = re.compile(r"[.?!…]\s+(?=[A-Z(])|\n[ \t]*\n")  # a sentence or a paragraph


def _open_end(text: str, start: int, stop: int) -> int:
    """Where quoted text from ``start`` ends if nothing closes it before ``stop``: at the
    paragraph's end unless the next paragraph reopens, and before narration (a sentence
    with a cue: "... happens. Meanwhile, X said ...")."""
    for m in _BOUNDARY.finditer(text, start, stop):
        after = _first_char(text, m.end(), stop)
        if after >= stop:
            break
        if text.count("\n", m.start(), after) >= 2:  # a paragraph break
            if text[after] != '"':
                return m.start() if text[m.start()] == "\n" else m.start() + 1
            continue
        following = text[after : min(stop, _line_end(text, after))]
        if _narration(following):
            return m.start() + 1
    return stop


def _first_char(text: str, a: int, b: int) -> int:
    while a < b and text[a].isspace():
        a += 1
    return a


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrowed past spaces, a trailing comma and the sentence's final full stop."""
    while start < end and text[start] in " \t\n,":
        start += 1
    while end > start and text[end - 1] in " \t\n,":
        end -= 1
    return start, end


def _title_case(text: str, span: _Span) -> bool:
    words = _WORDS.findall(text[span.start : span.end])
    return bool(words) and all(
        w[:1].isupper() or w.lower() in {"of", "the", "and", "a", "in"} for w in words
    )


def cue_subject(text: str, verb_at: int) -> str:
    """The pronoun just before a cue verb ("he" in `," he said`, `She added:`), lowercase,
    or ""."""
    m = _PRONOUN_BEFORE.search(text, max(0, verb_at - 30), verb_at)
    return m.group(1).lower() if m else ""


def _compatible_with(person: Person, want: str) -> bool:
    if want in {"m", "f"}:
        return person.gender in {want, ""}
    return want in {"", "person"}


def _quote_sentence_start(sentence: str, cue: int) -> int:
    """Where the reported clause before a sentence-end cue starts: the sentence's start, or
    for a quote closing at the cue (`," she said`) the start of the quote's own sentence
    when narration ends before its opening mark."""
    if not sentence.startswith(',"', cue):
        return 0
    opening = sentence.rfind('"', 0, cue)
    ends = [m.end() for m in _SENTENCE_STOP.finditer(sentence, 0, max(opening, 0))]
    return ends[-1] if ends else 0


def _owned_office(words: list[str]) -> bool:
    """ "Office" in "the US Trade Representative's Office": one organisation word that the
    possessive belongs to, not a name of its own."""
    return len(words) == 1 and words[0].lower() in ORG_WORDS


_CLAUSE_WORDS = frozenset({"has", "have", "had", "is", "was", "are", "were", "will", "would"})


def _appositive_name(appositive: str) -> str:
    """The name an appositive gives ("Ana Lopes", "Rt Rev Dr Tom Wright" of "the Rt Rev Dr
    Tom Wright"), or ""."""
    words = appositive.strip(" ,").split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words) if _proper(words) else ""


def _named_subject(pre: str, m: re.Match[str]) -> bool:
    """`Mark Serwotka, the leader of the PCS union said`: a person's name opening the clause,
    (or after "but", "and"), then what they are (a role, or a phrase with an article), then
    the cue; not `by club
    chairman Tim Phillips, the American said` nor `in the Northern Echo, the Bishop said`."""
    head = pre[: m.start("np")].rstrip()
    desc = m.group("desc").split()
    return (
        _person_like(m.group("np"))
        and clean_run(m.group("np"))[1] == m.group("np")  # not "In September"
        and not _CLAUSE_WORDS & {w.lower() for w in desc}  # "In September, the IMF had said"
        and (not head or head[-1] in ".,;:" or head.split()[-1].lower() in {"but", "and"})
        and (desc[0].lower() in {"a", "an", "the"} or is_role_word(desc[0]))
    )


def _person_like(text: str) -> bool:
    """Two to four capitalised words that do not name an organisation: "Norman Brennan"."""
    words = text.split()
    return 2 <= len(words) <= 4 and _proper(words) and not looks_like_org(text)


def _proper(words: list[str]) -> bool:
    """Capitalised words (with "of", "and", "for" between) not ending in a job: a name."""
    if not words or not words[0][:1].isupper() or is_role_word(words[-1]):
        return False
    return all(w[:1].isupper() or w in {"of", "and", "for", "de", "van", "von"} for w in words)


def _subject_starts_clause(pre: str, at: int) -> bool:
    """The subject is not the object of a preposition or of another verb."""
    head = pre[:at].rstrip()
    first = pre[at:].split(maxsplit=1)
    if not head or (first and first[0].lower() in NOT_NAMES):
        return True  # "... on Wednesday Lord Woolf said": a name after a time word
    last = head.split()[-1].lower()
    return last not in _OBJECT_OF


_OBJECT_OF_TEXT = """
    to by with for of at from about against on in into told asked accused criticised
    criticized thanked praised urged blamed warned called named
"""
_OBJECT_OF = frozenset(_OBJECT_OF_TEXT.split())
