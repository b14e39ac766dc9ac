"""Follow-up questions in a chat: telling them apart and making them stand alone.

A chat model rewrites follow-ups with ``prompts/condense.txt``; ``plausible_rewrite`` decides
whether to trust its rewrite. Without a model (or when its rewrite is not plausible),
``fallback_condense`` does it by rule: he/she/him/his/her become the person the previous
answer is about (``person_meant``), they/them/their the person or organisation last named,
it/its that name unless it is a person, and the previous question's key terms are carried
over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rag.text import QUESTION_WORDS, key_terms, sentence_spans, strip_markers
from rag.types import Answer

PRONOUNS = {"he", "she", "him", "his", "her", "they", "them", "their", "it", "its"}
PERSONAL = {"he", "she", "him", "his", "her"}  # always a person, never a city or a club
IMPERSONAL = {"it", "its"}  # never a person
WHO = {"who", "whom", "whose"}
AUXILIARIES = {"did", "does", "do", "will", "would", "can", "could", "should", "has", "have", "had"}
POSSESSIVES = {"his", "their", "its"}
CONNECTIVES = ("and ", "but ", "also ", "so ", "then ")
ABOUT = ("what about ", "how about ")
EXPLETIVE_IT = {"is", "was", "be", "been", "seems", "true", "possible", "likely"}
TITLES = {
    "president", "spokesman", "spokeswoman", "spokesperson", "minister", "secretary",
    "chancellor", "senator", "governor", "mayor", "leader", "chief", "general", "prime",
    "foreign", "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "king", "queen", "pope",
}  # fmt: skip
STARTERS = {"according", "asked", "because", "but", "if", "in", "on", "after", "while", "i"}
NOT_NAMES = QUESTION_WORDS | STARTERS
OPENERS = {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do",
    "is", "are", "was", "were", "will", "would", "can", "could", "should", "has", "have", "had",
}  # fmt: skip
_CAPITALISED = re.compile(r"[A-Z][\w'’-]*(?: +[A-Z][\w'’-]*)*")
_WORDS = re.compile(r"[\w'’-]+")
_PAREN_TAIL = re.compile(r"\s*\([^()]*\)\s*$")
MAX_CARRIED = 4


@dataclass
class Turn:
    """One exchange: what was asked, what was searched, and the checked answer."""

    question: str
    standalone: str
    answer: Answer
    filters: str = "none"  # the filters it was asked under, as ``Filters.describe`` says them


def first_line(reply: str) -> str:
    """The first non-empty line of a model reply, without quotes or a label."""
    for line in reply.splitlines():
        line = line.strip().removeprefix("Standalone question:").strip().strip("\"'“”")
        if line:
            return line
    return ""


def plausible_rewrite(question: str, condensed: str) -> bool:
    """A model's rewrite is used if it changed the question, kept most of its key terms and,
    when the question is one, is still a question: asked "How old is he?", Qwen2.5-1.5B
    replied "Muharrem Ince is 45 years old.", an answer the article never gives."""
    if not condensed or condensed.lower() == question.lower():
        return False
    if is_question(question) and not is_question(condensed):
        return False
    own = set(key_terms(question))
    kept = own & set(key_terms(condensed))
    return 2 * len(kept) >= len(own)


def is_question(text: str) -> bool:
    """Ends with a question mark or opens with a question word or auxiliary ("Who…",
    "Did…")."""
    words = _WORDS.findall(text.lower())
    return text.rstrip().endswith("?") or bool(words and words[0] in OPENERS)


def fallback_condense(question: str, previous: Turn) -> str:
    """Rewrite a follow-up without a model: resolve pronouns, carry the previous key terms."""
    if not looks_like_follow_up(question):
        return question
    name, person = last_named(previous), person_meant(previous)
    core = _PAREN_TAIL.sub("", previous.standalone).rstrip(" ?.")
    rest = _strip_connective(question.strip())
    says_it = any(rest[a:b].lower() in IMPERSONAL for a, b, _ in pronouns(rest))
    thing = name if name and says_it and not _a_person(name, previous) else None
    topic = _topic(rest)
    if topic is not None:
        return f"{_about(core, resolve_pronouns(topic, name, person, thing))}?"
    resolved = resolve_pronouns(rest[:1].upper() + rest[1:], name, person, thing)
    have = set(key_terms(resolved))
    carried = [w for w in content_words(core) if key_terms(w)[0] not in have]
    return f"{resolved} ({' '.join(carried[:MAX_CARRIED])})" if carried else resolved


def looks_like_follow_up(question: str) -> bool:
    """A leading 'and…'/'what about…', a pronoun before any name, or too vague to search."""
    text = question.strip()
    if text.lower().startswith(CONNECTIVES + ABOUT):
        return True
    pronoun = next((start for start, _, _ in pronouns(text)), -1)
    name = _first_name_at(text)
    if pronoun >= 0 and (name < 0 or pronoun < name):
        return True
    return len(key_terms(text)) <= 1 and (name < 0 or _topic(text) is not None)


def _first_name_at(text: str) -> int:
    """Where the first name in ``text`` starts, or -1."""
    for match in _CAPITALISED.finditer(text):
        if names_in(match.group(0)):
            return match.start()
    return -1


def _strip_connective(text: str) -> str:
    for word in CONNECTIVES:
        if text.lower().startswith(word):
            return text[len(word) :].strip()
    return text


def _topic(rest: str) -> str | None:
    """What a fragment like 'what about the Americans?' or 'the Americans?' asks about."""
    text = rest.rstrip(" ?.")
    for lead in ABOUT:
        if text.lower().startswith(lead):
            return text[len(lead) :].strip()
    words = text.lower().split()
    if words and words[0] not in OPENERS and len(words) <= 4:
        return text
    return None


def _about(core: str, topic: str) -> str:
    """The previous question, now about ``topic``: a year in place of the year it asked
    about ("…rise in 2004?", "And in 2005?"), else added to it; a phrase that opens with a
    preposition added as it is ("What about in Scotland?"); else in place of what it was
    about ("…say about the Americans"), else of the name it asked after when the topic is a
    name ("How old is Biden?", "What about Trump?"), else with "about" and the topic added."""
    when = _WHEN.fullmatch(topic)
    if when:
        years = list(_YEAR.finditer(core))
        if years:
            return f"{core[: years[-1].start()]}{when.group('time')}{core[years[-1].end() :]}"
        return f"{core} {when.group('prep') or 'in '}{when.group('time')}"
    if _PREPOSITION.match(topic):
        return f"{core} {topic}"
    at = core.lower().rfind(" about ")
    if at >= 0:
        return f"{core[:at]} about {topic}"
    asked = names_in(core)
    if asked and names_in(topic) == [topic]:
        return core.replace(asked[0], topic, 1)
    return f"{core} about {topic}"


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
# "2018", "in 2005", "in March 2005": a time a follow-up asks the same question of
_WHEN = re.compile(
    rf"(?P<prep>(?:in|during|by|since|before|after)\s+)?(?P<time>(?:[A-Z][a-z]+\s+)?"
    rf"{_YEAR.pattern})",
    re.IGNORECASE,
)
_PREPOSITION = re.compile(r"(?:in|at|for|on|outside|inside|among|across)\s", re.IGNORECASE)


def content_words(text: str) -> list[str]:
    """Words of ``text`` that are key terms, in order, once each."""
    seen: set[str] = set()
    out: list[str] = []
    for word in _WORDS.findall(text):
        terms = key_terms(word)
        if terms and terms[0] not in seen:
            seen.add(terms[0])
            out.append(word)
    return out


def names_in(text: str) -> list[str]:
    """Capitalised name sequences, without titles or sentence-opening words."""
    names = []
    for match in _CAPITALISED.finditer(text):
        words = [re.sub(r"['’]s$", "", w) for w in match.group(0).split()]
        while words and words[0].lower() in NOT_NAMES:
            words.pop(0)
        titled = [i for i, w in enumerate(words) if w.lower() in TITLES]
        if titled:
            words = words[titled[-1] + 1 :]
        if words:
            names.append(" ".join(words))
    return names


def last_named(turn: Turn) -> str | None:
    """The person or organisation a pronoun most likely means, from the previous turn."""
    answer = "" if turn.answer.refused else strip_markers(turn.answer.answer)
    spans = sentence_spans(answer)
    first = answer[spans[0][0] : spans[0][1]] if spans else ""
    for names in (names_in(first), names_in(turn.standalone)[::-1], names_in(answer)):
        if names:
            return names[0]
    return None


def person_meant(turn: Turn) -> str | None:
    """The person the previous answer is about: a named person (never a month, a city or a
    club), read with ``rag.quotes.speakers.Cast``.

    After a who-question, the people the question did not name ("Who did Bolton sign from
    Roma?": the player signed, not Bolton's manager, who is named first); otherwise the
    people the question named (by surname too), else those of the answer. Among them, the
    one mentioned most in the answer and its cited passages; on a tie, the one named first.
    """
    from rag.quotes.speakers import Cast

    answer, passages = _said(turn)
    asked = _people(Cast.of(turn.standalone))
    if not asked:
        # a question names people by surname ("When did Peskov speak…?"), which alone does
        # not make a person for Cast: the people of the answer and its passages it names
        known = _people(Cast.of(f"{answer} {passages}"))
        asked = [n for n in known if _mentions(n, turn.standalone)]
    named = _people(Cast.of(answer))
    if turn.standalone.strip().lower().split(" ", 1)[0] in WHO:
        spans = sentence_spans(answer)
        first = answer[spans[0][0] : spans[0][1]] if spans else ""
        if found := _who_by_verb(turn.standalone, first, Cast.of(first)):
            return found
        candidates = [n for n in named if not _same_person(n, asked)] or named
    else:
        candidates = asked or named
    if not candidates:
        return None
    return max(candidates, key=lambda n: _mentions(n, f"{answer} {passages}"))


def _who_by_verb(question: str, sentence: str, cast: Any) -> str | None:
    """The person a who-question asks for, placed by its verb in the answer's sentence: the
    first person after it when the question asks for the object ("Who did Bolton sign?":
    "... has signed Roma defender Vincent Candela"), the last before it when it asks for the
    subject ("Who signed Candela?")."""
    words = _WORDS.findall(question.lower())
    if len(words) < 3:
        return None
    asks_object = words[1] in AUXILIARIES
    if asks_object:  # the verb: the first lowercase word after the subject
        tail = [w for w in _WORDS.findall(question)[2:] if w.islower()]
        verb = tail[0] if tail else ""
    else:
        verb = words[1]
    stem = key_terms(verb)
    if not stem:
        return None
    at = next((m.start() for m in _WORDS.finditer(sentence) if key_terms(m.group(0)) == stem), -1)
    if at < 0:
        return None
    people = sorted((off, p.name) for off, p in cast.mentions if not p.is_org)
    after = [name for off, name in people if off > at]
    before = [name for off, name in people if off < at]
    if asks_object:
        return after[0] if after else None
    return before[-1] if before else None


def _a_person(name: str, turn: Turn) -> bool:
    """Whether the name is one of the people (by surname) of the turn's answer, its cited
    passages or its question."""
    from rag.quotes.speakers import Cast

    answer, passages = _said(turn)
    people = _people(Cast.of(f"{turn.standalone} {answer} {passages}"))
    return _same_person(name, people)


def _said(turn: Turn) -> tuple[str, str]:
    """The turn's answer without markers ("" when refused) and its cited passages' text."""
    answer = "" if turn.answer.refused else strip_markers(turn.answer.answer)
    return answer, " ".join(c.passage.text for c in turn.answer.citations)


def _people(cast: Any) -> list[str]:
    """The people of a Cast (not its organisations), in order of mention."""
    ordered = sorted(cast.mentions, key=lambda m: m[0])
    return list(dict.fromkeys(p.name for _, p in ordered if not p.is_org))


def _same_person(name: str, others: list[str]) -> bool:
    return any(name.split()[-1] == other.split()[-1] for other in others)


def _mentions(name: str, text: str) -> int:
    """How often the person's surname is in the text."""
    return len(re.findall(rf"\b{re.escape(name.split()[-1])}\b", text))


def resolve_pronouns(
    text: str, name: str | None, person: str | None = None, thing: str | None = None
) -> str:
    """Replace they/them/their with the name, he/she/him/his/her with the person (else the
    name), it/its with the thing: an organisation or a place, never a person ("the people
    who spread it" after an answer about Peskov); possessives get 's."""
    out, at = [], 0
    for start, end, possessive in pronouns(text):
        word = text[start:end].lower()
        meant = thing if word in IMPERSONAL else person if person and word in PERSONAL else name
        if meant:
            out += [text[at:start], meant + ("'s" if possessive else "")]
            at = end
    return "".join([*out, text[at:]])


def pronouns(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, possessive) of each pronoun that refers to someone (not 'is it true')."""
    words = list(_WORDS.finditer(text))
    lowered = [w.group(0).lower() for w in words]
    found = []
    for i, word in enumerate(lowered):
        near = set(lowered[max(i - 1, 0) : i + 2])
        if word not in PRONOUNS or (word == "it" and near & EXPLETIVE_IT):
            continue
        follows = lowered[i + 1] if i + 1 < len(words) else ""
        noun_next = bool(follows) and follows not in QUESTION_WORDS
        possessive = word in POSSESSIVES or (word == "her" and noun_next)
        found.append((words[i].start(), words[i].end(), possessive))
    return found
