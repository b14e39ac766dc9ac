"""Who is speaking: names in an article, their descriptors and organisations, and the
resolution of a cue's subject ("he", "the spokesman", "Peskov") to the fullest name.

Everything here is regular patterns over capitalised words and a few word lists; the
lists are the module's knowledge of English news style, kept in one place.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

# Words that head a description of a person's job: "Kremlin Spokesman", "economy minister".
_ROLE_WORDS_TEXT = """
    spokesman spokeswoman spokesperson minister secretary president chancellor chairman
    chairwoman chair executive director chief boss manager coach leader head official
    analyst economist governor senator mayor premier king queen prince princess judge lawyer
    attorney prosecutor commissioner ambassador envoy adviser advisor aide spokesmen
    officials founder owner editor producer singer actor actress star player captain striker
    midfielder defender goalkeeper keeper winger forward skipper mp mep peer commander
    officer inspector superintendent professor dr doctor researcher scientist expert
    strategist consultant partner president-elect candidate presenter director-general
    rapporteur negotiator treasurer controller principal dean teacher campaigner activist
    author writer investor trader banker dealer broker regulator watchdog representative rep
    backbencher frontbencher agent correspondent host chef designer director-general
    cardinal bishop archbishop
"""
ROLE_WORDS = frozenset(_ROLE_WORDS_TEXT.split())
# Words that modify a role without naming an organisation: "Foreign Minister".
_ROLE_MODIFIERS_TEXT = """
    foreign home prime deputy vice chief executive finance defence defense culture sports
    trade health education interior justice environment energy transport treasury shadow
    former acting senior junior assistant general managing first second interim new economy
    industry labour work pensions culture media technology international national regional
    local state federal opposition party press
"""
ROLE_MODIFIERS = frozenset(_ROLE_MODIFIERS_TEXT.split())
# Words that end an organisation's name.
_ORG_WORDS_TEXT = """
    ltd plc inc corp corporation company co group bank party ministry department office
    commission council association federation union agency authority board committee
    institute university college club fc united city rovers athletic society foundation
    trust service services securities capital partners holdings industries airlines airways
    motors network networks news times post journal bbc nato fifa uefa government kremlin
    parliament congress senate court police army navy league organisation organization
    international systems technologies communications media entertainment records studios
    pictures electronics software telecom laboratories labs
"""
ORG_WORDS = frozenset(_ORG_WORDS_TEXT.split())
# courtesy titles that are never part of a name ("Lord Falconer", "Sir John" can be)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr"})
# titles written short with a full stop in US style ("Rep. Virginia Foxx", "Lt. Col."); they
# say nothing of sex
ABBREVIATED_TITLES = (
    *("dr", "prof", "lt", "col", "gen", "maj", "capt", "sgt", "rep", "sen", "gov", "rev"),
    *("atty", "det", "supt", "adm", "amb", "cmdr"),
)
TITLES = {
    "mr": "m",
    "mrs": "f",
    "ms": "f",
    "miss": "f",
    "sir": "m",
    "lord": "m",
    "lady": "f",
    "dame": "f",
    "professor": "",
    **dict.fromkeys(ABBREVIATED_TITLES, ""),
}
# Capitalised words that start sentences or name days and months, never part of a name.
_NOT_NAMES_TEXT = """
    the a an but and however in on at for with this that these those it he she they we i his
    her their its our if when while after before as so yet also asked speaking meanwhile
    last next earlier later yesterday today tomorrow monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september
    october november december there here what why how who where which now then both all some
    many most one two three four five six seven eight nine ten according despite although
    though because since until unless even only not no yes my your mr mrs ms dr sir lord
    lady dame prof professor to from of by about over under into out up down new instead
    under whether while during commenting responding writing explaining
"""
NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
NATIONALITY = re.compile(r"(?:an|ian|ish|ese|ic|i|ch|sh)$")
NAME_LINKS = frozenset(
    {"de", "van", "von", "bin", "al", "da", "di", "du", "der", "den", "la", "le"}
)
PRONOUNS = {"he": "m", "she": "f", "they": "", "it": "org", "i": "", "we": ""}

# an abbreviated title with its full stop ("Rep. Virginia Foxx", "Gov. Ron DeSantis"), an
# initial ("J. Smith"), or a capitalised word
_CAP = (
    rf"(?:(?:{'|'.join(t.capitalize() for t in ABBREVIATED_TITLES)})\."
    r"(?=\s+[A-Z])|[A-Z]\.(?=\s+[A-Z])|[A-Z][\w'’-]*(?:\.[\w'’-]+)+\.(?=\s+[A-Z][a-z])"
    r"|[A-Z][\w'’-]*(?:\.[\w'’-]+)*)"
)
CAP_RUN = re.compile(
    rf"{_CAP}(?:[^\S\n]+(?:(?:{'|'.join(NAME_LINKS | {'of', 'for'})})[^\S\n]+)?{_CAP})*"
)
WORD = re.compile(r"[\w'’.-]+")
_ORG_AFTER = re.compile(rf"\b(?:at|of|for|from|with)\s+(?:the\s+)?({CAP_RUN.pattern})")
# Words before a name that make it an organisation: "a spokesman for Reporters Without
# Borders", "a statement from Lycos Europe"
_SPOKEN_FOR = re.compile(
    r"\b(?:spokes(?:man|woman|person)|statement|press release)\s+(?:for|from|of|by|issued by)"
    r"\s+(?:the\s+)?$"
)
_LEADING_DET = re.compile(r"(?:(?:the|a|an|former)\s+)?(.*)", re.I)
_POSSESSIVE_END = re.compile(r"['’]s?$")
_INNER_POSSESSIVE = re.compile(r"['’]s?(?=\s)")


@dataclass
class Person:
    """A speaker the article names, with what it says about them."""

    name: str
    descriptors: list[str] = field(default_factory=list)
    organisation: str = ""
    gender: str = ""  # "m", "f" or "" (unknown); "org" for organisations
    is_org: bool = False

    @property
    def surname(self) -> str:
        return self.name.split()[-1] if self.name else ""

    def describe(self, descriptor: str, organisation: str = "") -> None:
        """Add a descriptor (and the organisation it names) once."""
        descriptor = _TRAILING_ADVERBIAL.sub("", descriptor.strip(" ,")).strip(" ,")
        if descriptor and descriptor.lower() not in {d.lower() for d in self.descriptors}:
            self.descriptors.append(descriptor)
        if organisation and not self.organisation:
            self.organisation = organisation


# how the words reached the reporter, after the appositive: "…, a climate scientist at
# Princeton University, over email."
_TRAILING_ADVERBIAL = re.compile(
    r",\s+(?:over|via|by|in|on|during)\s+(?:an?\s+|the\s+)?"
    r"(?:e-?mail|phone|telephone|text|interview|statement|twitter|x|facebook|video|radio|"
    r"television|tv|podcast|webinar|call|briefing|conference)\b.*$",
    re.IGNORECASE,
)

_CACHED = 16384  # distinct strings the pure helpers below remember (names recur across articles)


@lru_cache(maxsize=_CACHED)
def is_role_word(word: str) -> bool:
    """True for a job word: "Spokesman", "minister", "coach"."""
    w = word.lower().strip(".,")
    return w in ROLE_WORDS or w.rstrip("s") in ROLE_WORDS


@lru_cache(maxsize=_CACHED)
def split_descriptor(run: str) -> tuple[str, str]:
    """("Kremlin Spokesman", "Dmitry Peskov") from "Kremlin Spokesman Dmitry Peskov"."""
    words = run.split()
    last_role = -1
    for i, w in enumerate(words[:-1]):
        if is_role_word(w):
            last_role = i  # "Foreign Minister" splits at Minister; "National Audit Office" not
    if last_role < 0:
        return "", run
    if words[last_role + 1] == "General" and last_role + 2 < len(words):
        last_role += 1  # "Attorney General Merrick Garland", "NATO Secretary General ..."
    rest = words[last_role + 1 :]
    if rest[0] in {"of", "for"} and len(rest) > 3:
        # "Secretary of State Antony Blinken": the office runs on to the name, its last two
        # words ("of State" was read as part of the name)
        cut = len(words) - 2
        if re.fullmatch(r"[A-Z]\.", words[cut]):
            cut -= 1  # "Andrew K. Frank"
        return " ".join(words[:cut]), " ".join(words[cut:])
    return " ".join(words[: last_role + 1]), " ".join(rest)


def organisation_of(descriptor: str) -> str:
    """The organisation a descriptor names: "Kremlin Spokesman" -> "Kremlin",
    "an analyst at Daiwa Securities" -> "Daiwa Securities", "Russian Foreign Minister" -> ""."""
    m = _ORG_AFTER.search(descriptor)
    if m:
        return _strip_possessive(m.group(1))
    m = _LEADING_DET.match(descriptor)
    words = (m.group(1) if m else descriptor).split()
    org: list[str] = []
    for w in words:
        bare = w.strip(",.")
        if is_role_word(bare) or bare.lower() in ROLE_MODIFIERS:
            break
        if not bare[:1].isupper():
            break
        org.append(_strip_possessive(bare))
    if len(org) == 1 and NATIONALITY.search(org[0]) and org[0] not in {"Kremlin"}:
        return ""
    return " ".join(org)


def _strip_possessive(text: str) -> str:
    return _POSSESSIVE_END.sub("", text)


@lru_cache(maxsize=_CACHED)
def looks_like_org(name: str) -> bool:
    """True for "Time Warner Inc", "the Electoral Commission", "BBC"."""
    words = name.split()
    if not words:
        return False
    if words[-1].lower().strip(".") in ORG_WORDS:
        return True
    if any(w.lower() in ORG_WORDS and nxt == "of" for w, nxt in itertools.pairwise(words)):
        return True  # "National Association of Probation Officers", "Bank of England"
    if len(words) > 1 and words[0].isupper() and len(words[0]) > 1 and words[0] not in PLACES:
        return True  # "BBC Scotland", "ITV News": an organisation's part
    return len(words) == 1 and words[0].isupper() and len(words[0]) > 1 and name not in PLACES


# Words that end a company's name without changing which company it is.
_LEGAL_SUFFIXES_TEXT = "inc plc ltd llc corp corporation co company group holdings ag sa nv"
LEGAL_SUFFIXES = frozenset(_LEGAL_SUFFIXES_TEXT.split())
PLACES = frozenset({"UK", "US", "USA", "UAE"})  # capitals that name countries, not speakers


# "New" starts a longer name with these ("New York Times" was "York Times"); elsewhere it is
# an adjective. The place alone stays one word ("Jersey"), which no "he" or "she" can mean.
_NEW_PLACES = frozenset(
    {"York", "Zealand", "Jersey", "Mexico", "Hampshire", "Delhi", "Orleans", "England"}
    | {"Brunswick", "South", "Haven", "Scotland", "Caledonia", "Guinea"}
)


@lru_cache(maxsize=_CACHED)
def clean_run(run: str) -> tuple[str, str]:
    """(title, name) of a capitalised run with leading non-name words removed."""
    words = run.split()
    while words and words[0].lower().strip(".") in NOT_NAMES - set(TITLES):
        if words[0] == "New" and len(words) > 2 and words[1] in _NEW_PLACES:
            break  # "New York Times", "New Jersey Supreme Court", not "New research"
        words.pop(0)
    # a courtesy title starts the name: "Harrogate Mr Kennedy" (from "Speaking in Harrogate
    # Mr Kennedy said"), "Foreign Policy Centre Mr Straw"
    inner = [
        i
        for i, w in enumerate(words[1:-1], 1)
        if w.lower().strip(".") in _HONORIFICS
        # "Florida Gov. Ron DeSantis", "Retired Lt. Gen. Mark Hertling": an abbreviated title
        or (w.endswith(".") and w.lower().strip(".") in TITLES)
    ]
    if inner:
        words = words[inner[0] :]
    title = ""
    while words and words[0].lower().strip(".") in TITLES:  # "Lt Col Eric Schnaible"
        title = words.pop(0).strip(".").lower()
    if len(words) > 1 and words[-1] == "I":
        words.pop()  # "Delta Airlines I" from "... Delta Airlines I think"
    words = [_strip_possessive(w) if i == len(words) - 1 else w for i, w in enumerate(words)]
    return title, " ".join(words).strip(" ,.")


class Cast:
    """The people and organisations of one article, in order of mention."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}  # full name -> person
        # where to look a name up: people by each word of their name, organisations by
        # their first word (lowercase); positions in ``people``, so candidates keep its order
        self._by_word: dict[str, list[int]] = {}
        self._by_first: dict[str, list[int]] = {}
        self._order: list[Person] = []
        self.mentions: list[tuple[int, Person]] = []  # (offset, person)
        self.speakers: list[tuple[int, Person]] = []  # (offset, person) of attributed quotes

    @classmethod
    def of(cls, text: str) -> Cast:
        """Every multi-word name in the text, with descriptors before it, and the later
        mentions of a named person by surname alone."""
        cast = cls()
        surnames: dict[str, Person] = {}
        for m in CAP_RUN.finditer(text):
            for at, run in _parts(m.start(), m.group()):
                if " " not in run and not looks_like_org(run):
                    # one capitalised word is a name only with a title (cheap test first)
                    known = surnames.get(_strip_possessive(run))
                    if known is not None:
                        cast.mentions.append((at, known))
                    continue
                person: Person | None
                if _SPOKEN_FOR.search(text, max(0, at - 40), at):
                    person = cast.organisation(clean_run(run)[1], at)
                else:
                    person = cast._named(text, at, run)
                if person is not None:
                    cast.mentions.append((at, person))
                    if not person.is_org and " " in person.name:
                        surnames[person.surname] = person
        return cast

    def _named(self, text: str, at: int, run: str) -> Person | None:
        """The person or organisation a capitalised run names, if any."""
        title, rest = clean_run(run)
        descriptor, name = split_descriptor(rest)
        _, name = clean_run(name)  # "Stars In Their Eyes": not a name after "Stars"
        if not name or name.lower() in NOT_NAMES or is_role_word(name.split()[-1]):
            return None
        if looks_like_org(name):
            return self.add(name, is_org=True)
        if " " not in name and not title:
            return None
        person = self.add(name, gender=TITLES.get(title, ""))
        lead = _lowercase_lead(text, at)
        full = f"{lead} {descriptor}".strip()
        if full:
            org = organisation_of(full)
            person.describe(full, org)
            if org:
                self.organisation(org, at)
        return person

    def add(
        self, name: str, *, gender: str = "", is_org: bool = False, before: int | None = None
    ) -> Person:
        """The person with this name (or a fuller one named before ``before``), created
        when new."""
        found = self.lookup(name, before)
        if found is not None:
            if gender and not found.gender:
                found.gender = gender
            return found
        person = Person(name, gender="org" if is_org else gender, is_org=is_org)
        self.people[name] = person
        at = len(self._order)
        self._order.append(person)
        words = name.split()
        for word in set(words):
            self._by_word.setdefault(word, []).append(at)
        if words:
            self._by_first.setdefault(words[0].lower(), []).append(at)
        return person

    def organisation(self, name: str, at: int) -> Person:
        """The organisation a descriptor names ("a spokesman for Reporters Without Borders",
        "William Hill spokesman"): known as one from now on, and mentioned at ``at``."""
        found = self.lookup(name)
        if found is None:
            found = self.add(name, is_org=True)
        elif not found.is_org and not found.gender:
            found.is_org, found.gender = True, "org"
        if found.is_org:
            self.mentions.append((at, found))
        return found

    def lookup(self, name: str, before: int | None = None) -> Person | None:
        """The fullest known name for a mention: "Peskov" -> Dmitry Peskov."""
        if name in self.people:
            return self.people[name]
        words = name.split()
        if not words:
            return None
        # a person whose name ends with these words, or an organisation's name written
        # short; whether one is an organisation may change, so both indexes are read
        known = self._known(
            self._by_word.get(words[-1], []), self._by_first.get(words[0].lower(), [])
        )
        candidates = [
            p
            for p in known
            if (not p.is_org and _ends_with(p.name.split(), words))
            or (p.is_org and _shortened(p.name, name))
        ]
        if not candidates and len(words) == 1 and not name.isupper():
            # "Lycos" for Lycos Europe, "Serena" for Serena Williams, once they are named
            first = self._first_mentions()
            candidates = [
                p
                for p in self._known(self._by_word.get(words[0], []))
                if not p.is_org and (before is None or first.get(id(p), before) < before)
            ]
        if not candidates:
            return None
        if len(candidates) > 1 and before is not None:
            recent = [p for off, p in self.mentions if off < before and p in candidates]
            if recent:
                return recent[-1]
        return max(candidates, key=lambda p: len(p.name))

    def _known(self, *positions: list[int]) -> list[Person]:
        """The people at these positions of ``people``, in its order."""
        return [self._order[i] for i in sorted(set().union(*positions))]

    def _first_mentions(self) -> dict[int, int]:
        first: dict[int, int] = {}
        for off, person in self.mentions:
            first[id(person)] = min(off, first.get(id(person), off))
        return first

    def last_speaker(self, before: int, want: str = "") -> Person | None:
        """The last attributed speaker before an offset, compatible with a pronoun's gender."""
        for off, person in reversed(self.speakers):
            if off < before and _compatible(person, want):
                return person
        return None

    def last_mention(self, before: int, want: str = "") -> Person | None:
        """The last person (or organisation) named before an offset (mentions are recorded
        as they are found, not in text order)."""
        best: tuple[int, Person] | None = None
        for off, person in self.mentions:
            if off < before and _compatible(person, want) and (best is None or off >= best[0]):
                best = (off, person)
        return best[1] if best else None

    def by_role(self, role: str, before: int) -> Person | None:
        """The last speaker before an offset whose descriptors contain the role's head word."""
        head = role.split()[-1].lower() if role.split() else ""
        for pool in (self.speakers, self.mentions):
            for off, person in reversed(pool):
                if off < before and any(head in d.lower().split() for d in person.descriptors):
                    return person
        return None


def _parts(at: int, run: str) -> list[tuple[int, str]]:
    """A capitalised run cut after a possessive inside it: "Bayern Munich's Champions
    League" names Bayern Munich and the Champions League."""
    if "'" not in run and "’" not in run:
        return [(at, run)] if run else []
    parts: list[tuple[int, str]] = []
    start = 0
    for m in _INNER_POSSESSIVE.finditer(run):
        rest = run[m.end() + 1 :].split()
        if len(rest) == 1 and rest[0].lower() in ORG_WORDS:
            break  # "the US Trade Representative's Office" is one organisation
        parts.append((at + start, run[start : m.end()]))
        start = m.end() + 1
    parts.append((at + start, run[start:]))
    return [(a, r) for a, r in parts if r]


def _shortened(full: str, short: str) -> bool:
    """True when an organisation's name is written short: "Time Warner" for "Time Warner
    Inc", "Electoral Commission" for "The Electoral Commission" (not "Sky" for "Sky News",
    nor "US" for "US Trade Representative's Office")."""
    words, part = full.lower().split(), short.lower().split()
    if words[: len(part)] != part:
        return False
    rest = words[len(part) :]
    return all(w.strip(".") in LEGAL_SUFFIXES for w in rest)


def _ends_with(words: list[str], tail: list[str]) -> bool:
    return len(words) >= len(tail) and words[-len(tail) :] == tail


def _compatible(person: Person, want: str) -> bool:
    if want == "org":
        return person.is_org
    if want in {"m", "f"}:
        return not person.is_org and person.gender in {want, ""}
    if want == "person":
        return not person.is_org
    if want == "unknown":  # a name that may be a company's: no gender, no job
        return not person.is_org and not person.gender and not person.descriptors
    return True


def _lowercase_lead(text: str, start: int) -> str:
    """Lowercase role words just before a capitalised run: "economy minister" in
    "said economy minister Heizo Takenaka" (the run holds only the name)."""
    head = text[max(0, start - 40) : start]
    words = head.split()
    lead: list[str] = []
    while (
        words and words[-1].islower() and (is_role_word(words[-1]) or words[-1] in ROLE_MODIFIERS)
    ):
        lead.insert(0, words.pop())
    if not any(is_role_word(w) for w in lead):
        return ""
    while words and words[-1][:1].isupper() and words[-1].lower().strip(",.") not in NOT_NAMES:
        if words[-1][-1] in ",.;:":
            break
        lead.insert(0, words.pop())
    return " ".join(lead)
