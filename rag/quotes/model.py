"""The quote record, the version of the rules that extract it, and the cue words they and the
answers share: what reading a quote index or answering from it needs, without the rules'
patterns (``rag.quotes.extract`` compiles them; a cold ``rag ask`` need not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Bumped whenever the rules of ``rag.quotes.extract`` change which quotes an article has, or their
# speakers: a quote index extracted under another version is extracted again on the next ``rag
# ingest`` (``rag.quotes.backfill``). 1: until 2026-11-30; 2: cues inside a sentence (7830f7e,
# ac8629e), descriptors without "over email" (53e1c1c); 3: no descriptor that says what someone
# did or when ("Mr Blair, who said", "Speaking to the BBC", "During the interview"), a name starts
# at its courtesy title ("Harrogate Mr Kennedy" is Mr Kennedy), and "they" is never one named
# person; 4: "Name, the leader of X said" is Name's, and "he" is never the man named in what he
# said; 5: what is said in a clause opening with "As", "When", ... ends with that clause; 6: "The
# Department of Trade and Industry", "GM and Ford" are one speaker (they were "Industry", "Ford");
# 7: "The Bishop of Durham, the Rt Rev Dr Tom Wright, said" is Tom Wright; 8: no descriptor ends
# in "but" or "and" ("Unions oppose the plans but"); 9: "The" alone is no speaker ("The forecast
# has left ..."), and in "The move came after France and Germany vowed" they vowed; 10: "the
# Archbishop of Canterbury" is the holder of that office, not the last person named; 11: "One",
# "Their" alone are no speaker either; 12: "The New York Times" is not "York Times"; 13: "...,
# told CNN" is not said by CNN, and a long description after a quote still finds its name; 14:
# "said Rep. Virginia Foxx", "Florida Gov. Ron DeSantis said": the name follows the title; 15:
# "J.B. Pritzker", "the U.S. Census Bureau" keep their first part; 16: "Biden's remarks came"
# is no cue; 17: "Mr Glazer continued to increase his holding" reports no speech; 18: a name
# does not run over a line break ("Getty Images\nSimon Morgan said"); 19: '," Patrol Chief
# James Hall with the New York Police Department said' is his; 20: "a handful of comments" is
# no cue either; 21: "Secretary of State Antony Blinken" is Antony Blinken, not "of State
# Antony Blinken"; 22: "Attorney General Merrick Garland" is Merrick Garland, not "General
# Merrick Garland".
RULES_VERSION = 22


@dataclass
class Quote:
    """One attributed quotation; ``text == article_text[start:end]``."""

    article_id: str
    text: str
    start: int
    end: int
    kind: str  # "direct" or "indirect"
    cue: str  # the cue verb as written ("said", "told", "according to"), "" for a continuation
    speaker: str
    descriptors: list[str] = field(default_factory=list)
    organisation: str = ""
    via: str = "name"  # how the speaker was found: name, pronoun, role, continuation
    context_start: int = 0  # the sentence(s) holding the quote and its cue
    context_end: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (for JSON and storage; ``asdict`` costs ingest a second on BBC)."""
        return {**vars(self), "descriptors": list(self.descriptors)}


# Cue verbs, as they follow a subject ("he said") or precede one ("said Mr Smith").
_SAY = """
    said says say told tells added adds stated states explained explains noted notes stressed
    stresses emphasised emphasized emphasises emphasizes concluded concludes insisted insists
    argued argues warned warns claimed claims admitted admits announced announces confirmed
    confirms acknowledged acknowledges maintained maintains suggested suggests believes
    believed predicted predicts revealed reveals replied replies responded responds commented
    comments continued continues wrote writes tweeted tweets declared declares complained
    complains agreed agrees disclosed discloses conceded concedes alleged alleges countered
    counters hinted hints recalled recalls remarked remarks observed observes cautioned
    cautions joked jokes quipped boasted boasts reckons reckoned thinks thought feels felt
    assured assures promised promises vowed vows pledged pledges asked asks estimated
    estimates forecast forecasts read
"""
_OBJECT = """
    denied denies rejected rejects dismissed dismisses accused accuses urged urges
    criticised criticized criticises criticizes blamed blames demanded demands called calls
    described describes praised praises condemned condemns questioned questions
"""
SAY_VERBS = frozenset(_SAY.split()) | {"pointed out", "points out"}
OBJECT_VERBS = frozenset(_OBJECT.split())
# Verbs that introduce indirect speech without quotation marks ("called", "described" and
# "asked" name things too often to be trusted without quotes).
INDIRECT_VERBS = (SAY_VERBS | OBJECT_VERBS) - {"called", "calls", "described", "describes"}
INDIRECT_VERBS -= {"asked", "asks", "questioned", "questions", "thought", "felt", "read"}
# '," he continued' is speech; "Mr Glazer continued to increase his holding" is not
INDIRECT_VERBS -= {"continued", "continues"}
