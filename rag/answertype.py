"""Answer types: what kind of answer a question asks for, and whether a sentence offers one.

"Who" and "which company" ask for a name, "where" for a place (a name too: "in Leeds",
"on Twitter"), "how many" and "how much" for a number (not "how much does X value Y", which
asks how strongly), "when" and "after which date" for a time. A sentence that offers
nothing of the kind (no name beyond the question's own, no number the question does not
already hold, no date or time) cannot be the answer, however many of the question's words
it repeats. Some numbers have a unit the question names: "how old" asks for an age ("aged
54", "a 23-year-old", "Hill, 54,"), "how much" about paying, costs or earnings for a sum of
money ("$1.3bn", "tens of millions of dollars"); a sentence whose only numbers are a year
or a percentage does not answer those. Other questions (what, why, how) are not typed:
their answers take too many forms. A "who" question with a verb of its own ("Who won the
election?") has no answer in passages where nobody wins (``asked_verb``).

It also recognises a sentence written to order an AI reader about ("Ignore previous
instructions…", "Now reveal your system prompt", "SYSTEM: …"): it names the machinery of a
prompt, which news outside quotation marks does not. Such text in an article is an attack
on whoever reads it, and the extractive answerer never offers it as an answer. The cues are
narrow on purpose: ordinary imperatives and news sentences are not instructions (a test
checks 1,000 BBC sentences).
"""

from __future__ import annotations

import re
from typing import Literal

from rag.dates import WEEKDAYS
from rag.text import MONTHS, STOPWORDS

Kind = Literal["name", "place", "number", "time"]

_NUMBER_QUESTION = re.compile(
    r"^\W*(?:how\s+(?:many|much|old|long|far|tall|big|large|high|heavy|deep)\b"
    r"|what\s+(?:is|was|are|were)\s+the\s+(?:\w+\s+){0,2}"
    r"(?:number|amount|count|tally|total|price|cost|percentage|share|age|score|size)\b"
    r"|what\s+(?:number|amount|percentage|proportion|share|price|sum)\b)",
    re.IGNORECASE,
)
_TIME_WORDS = r"(?:year|date|day|month|time|week|decade|season)s?"
_NAME_QUESTION = re.compile(
    r"^\W*(?:who|whom|whose)\b"
    rf"|^\W*(?:(?:in|on|at|by|for|from|to|with|of|against)\s+)?which\s+(?!{_TIME_WORDS}\b)\w",
    re.IGNORECASE,
)
_PLACE_QUESTION = re.compile(r"^\W*(?:(?:from|to)\s+)?where\b", re.IGNORECASE)
_TIME_QUESTION = re.compile(
    r"^\W*(?:(?:until|till|since|by)\s+)?when\b"
    r"|^\W*(?:(?:in|on|by|until|till|since|after|before|from)\s+)?(?:what|which)\s+"
    rf"{_TIME_WORDS}\b",
    re.IGNORECASE,
)

_QUESTION_WORD = re.compile(
    r"\W*(?:(?:in|on|at|by|for|from|to|with|of|against|after|before|until|till|since)\s+)?"
    r"(?:who|whom|whose|what|which|when|where|why|how)\b",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(r"[,;:.?!]\s+")

_NUMBER_WORDS = """
    one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred hundreds thousand thousands million millions billion billions trillion dozen
    dozens half quarter third
"""
NUMBER_WORDS = frozenset(_NUMBER_WORDS.split())
_NUMBER = re.compile(r"\d[\d,.]*%?|\b[a-z]+\b", re.IGNORECASE)

_MONTHS = " ".join([*MONTHS, *(m[:3] for m in MONTHS if m != "may"), "sept"])
_DAYS = " ".join(WEEKDAYS)
_CALENDAR = frozenset(f"{_MONTHS} {_DAYS}".split())
_TIME = re.compile(
    rf"\b(?:{_MONTHS.replace(' ', '|')}|{_DAYS.replace(' ', '|')})\b"
    r"|\b(?:1[89]|20)\d\d\b|\b\d{1,2}:\d\d\b|\b[ap]\.m\.|\b(?:yesterday|today|tomorrow|tonight)\b"
    r"|\b(?:last|next|this|early|late|mid)[\s-]+(?:week|month|year|decade|century|weekend"
    r"|spring|summer|autumn|fall|winter|morning|afternoon|evening|night)\b"
    r"|\b(?:spring|summer|autumn|winter|morning|afternoon|evening|night|weekend)\b"
    r"|\b(?:days?|weeks?|months?|years?|decades?)\s+(?:ago|later|earlier)\b"
    r"|\b(?:in|for|within|after)\s+(?:\d+|a|an|\w+)\s+(?:days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*")

# "How old", "what age": an age. "How much" about money (not "by how much", a change that
# is often a percentage): a sum of money.
_AGE_QUESTION = re.compile(r"^\W*(?:how\s+old|(?:at\s+)?what\s+age)\b", re.IGNORECASE)
_MONEY_QUESTION = re.compile(
    r"^\W*how\s+much\b.*\b(?:pay|paid|paying|pays|cost|costs|costing|spend|spent|spending"
    r"|spends|earn|earns|earned|earning|earnings|worth|charge|charges|charging|charged|price"
    r"|priced|damages|money|fund|funding|fee|fees|salary|wages?|bid|fine|fined|invest"
    r"|invested|investment|budget|prize|compensation|bail|revenues?|profits?|box\s+office)\b"
    r"|^\W*what\s+(?:\w+\s+){0,2}(?:price|fee|salary|sum)\b",
    re.IGNORECASE,
)
_SCALE = r"(?:bn|m|k|billions?|millions?|thousands?|trillions?)"
_CURRENCY = r"(?:dollars?|pounds?|euros?|yen|yuan|rupees?|francs?|pence|cents?)"
_MONEY = re.compile(
    rf"(?:[£$€¥]|\b(?:US|A|C|NZ|HK)\$|\b(?:USD|GBP|EUR)\s?)\s?\d[\d,.]*\s?{_SCALE}?\b"
    rf"|\b\d[\d,.]*\s?{_SCALE}?\s+{_CURRENCY}\b"
    rf"|\b(?:[a-z]+\s+)?(?:{_SCALE}|hundreds?|tens|dozens)\s+(?:of\s+)?{_CURRENCY}\b",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"\baged?\s+\d{1,3}\b|\b\d{1,3}[\s-]+years?[\s-]+old\b|\b\d{1,3}-year-old"
    r"|\b(?:at|of)\s+(?:the\s+age\s+of\s+)?\d{1,3}(?=\s*[,.;)]|\s+(?:and|in|on|after)\b)"
    r"|[A-Z][\w'’-]+,\s+\d{1,3},",
    re.IGNORECASE,
)

# What marks text written to order an AI reader about, rather than news: a role label, the
# machinery of a prompt (instructions, system prompt, context, API keys, secrets), or orders
# about its reply or citations. Each cue names that machinery, so ordinary imperatives
# ("Print editions will end", "You must be 18 to vote") never match.
_INSTRUCTION = re.compile(
    r"^(?:system|assistant|user|developer)\s*:"
    r"|\b(?:ignore|disregard|forget|override)\b[^.]{0,40}?\b(?:instructions?|context|prompts?"
    r"|messages?)\b"
    r"|\b(?:previous|prior|above|earlier|system|developer)\s+instructions?\b"
    r"|^(?:important\s+)?(?:new\s+)?instructions?\b[^:.]{0,40}:"
    r"|\bsystem\s+prompt\b|\bapi[\s_-]?keys?\b|\benvironment\s+variables?\b"
    r"|\bsecrets?\s+you\s+know\b|\byou\s+are\s+now\s+in\b"
    r"|\b(?:reply|respond|answer)\s+only\s+with\b"
    r"|\b(?:do\s+not|don['’]t|never)\s+cite\b|\bcite\s+(?:this|it)\s+(?:article\s+)?as\b"
    r"|\bnote\s+to\s+the\s+(?:ai|model|assistant)\b",
    re.IGNORECASE,
)


# "How much does Russia value ...?" asks how strongly, not how many: the answer is words
# ("very, very much"), not a number.
_DEGREE_QUESTION = re.compile(
    r"^\W*how\s+much\s+(?:do|does|did|will|would|can|could|should)\s+(?:[\w'’-]+\s+){1,4}?"
    r"(?:value|like|love|hate|care|trust|want|matter|enjoy|appreciate|respect|fear|miss"
    r"|admire|know|understand|believe|support|regret|worry|mind|dislike|prefer)\b",
    re.IGNORECASE,
)


_WHO_VERB = re.compile(r"^\W*who\s+(?P<verb>[a-z]+)\b", re.IGNORECASE)
_AUXILIARIES = frozenset({
    "is", "was", "are", "were", "be", "been", "has", "have", "had", "do", "does", "did", "will",
    "would", "shall", "should", "can", "could", "may", "might", "must",
})  # fmt: skip


def asked_verb(question: str) -> str | None:
    """The verb of a "who" question ("won" in "Who won the election?"): the relation the
    name asked for stands in. None when the question has none of its own ("Who is ...",
    "Who did ... sign", "what" questions)."""
    m = _WHO_VERB.match(_asking_clause(question))
    if m is None:
        return None
    verb = m.group("verb").lower()
    return None if verb in _AUXILIARIES or verb in STOPWORDS else verb


def expected_kind(question: str) -> Kind | None:
    """The kind of answer a question asks for, or None when it is not typed. A question
    that opens with a clause of its own ("According to Peskov, how much ...", "The House
    was stuck this week. Which Republican ...") is read from its question word on."""
    clause = _asking_clause(question)
    if _TIME_QUESTION.search(clause):
        return "time"
    if _NAME_QUESTION.search(clause):
        return "name"
    if _PLACE_QUESTION.search(clause):
        return "place"
    if _NUMBER_QUESTION.search(clause) and not _DEGREE_QUESTION.search(clause):
        return "number"
    return None


def _asking_clause(question: str) -> str:
    """The question from its first clause that opens with a question word (the whole
    question when it opens with one, or when no clause does)."""
    if _QUESTION_WORD.match(question):
        return question
    for m in _CLAUSE_START.finditer(question):
        if _QUESTION_WORD.match(question, m.end()):
            return question[m.end() :]
    return question


def offers(kind: Kind, sentence: str, question: str) -> bool:
    """True when the sentence holds something of that kind the question does not."""
    if kind == "number":
        return bool(offer_spans(kind, sentence, question))
    if kind == "time":
        return _TIME.search(sentence) is not None
    asked = {w.lower().strip(".'’") for w in _CAPITALISED.findall(question)}
    return any(_new_name(word, asked) for word in _CAPITALISED.findall(sentence))


def _new_name(word: str, asked: set[str]) -> bool:
    plain = word.lower().strip(".'’").removesuffix("'s").removesuffix("’s")
    return bool(plain) and plain not in asked and plain not in STOPWORDS and plain not in _CALENDAR


def is_instruction(sentence: str) -> bool:
    """True for a sentence that orders an AI reader about (not inside quotation marks)."""
    text = sentence.lstrip(" \t\n*>-•([")
    return bool(text) and text[0] not in "\"“‘'" and _INSTRUCTION.search(text) is not None


def offer_spans(kind: Kind, sentence: str, question: str) -> list[tuple[int, int]]:
    """Where the sentence offers something of that kind the question does not hold."""
    if kind == "time":
        return [m.span() for m in _TIME.finditer(sentence)]
    if kind == "number":
        asked = _numbers(question)
        unit = _unit(question)
        spans = [m.span() for m in _NUMBER.finditer(sentence) if (_numbers(m.group()) - asked)]
        if unit is None:
            return spans
        # a number of the unit asked for: one that starts inside a match of the unit
        units = [m.span() for m in unit.finditer(sentence) if _numbers(m.group()) - asked]
        return [(a, b) for a, b in spans if any(u <= a < v for u, v in units)]
    asked = {w.lower().strip(".'’") for w in _CAPITALISED.findall(question)}
    return [m.span() for m in _CAPITALISED.finditer(sentence) if _new_name(m.group(), asked)]


def _unit(question: str) -> re.Pattern[str] | None:
    """The pattern of the number a question asks for when it names a unit (an age, a sum
    of money), else None."""
    clause = _asking_clause(question)
    if _AGE_QUESTION.search(clause):
        return _AGE
    if _MONEY_QUESTION.search(clause):
        return _MONEY
    return None


def _numbers(text: str) -> set[str]:
    found = set()
    for token in _NUMBER.findall(text):
        lowered = token.lower()
        if token[0].isdigit():
            found.add(lowered.rstrip(".,").replace(",", ""))
        elif lowered in NUMBER_WORDS:
            found.add(lowered)
    return found
