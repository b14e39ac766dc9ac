"""Quote extraction and attribution on short news-style texts written for these tests."""

from __future__ import annotations

import pytest

from rag.clean import clean_article_text
from rag.quotes import Quote, extract_quotes


def quotes_of(text: str) -> list[Quote]:
    text = clean_article_text(text)
    found = extract_quotes("a1", text)
    for q in found:
        assert text[q.start : q.end] == q.text
    return found


def by_text(found: list[Quote], fragment: str) -> Quote:
    hits = [q for q in found if fragment in q.text]
    assert hits, f"no quote holds {fragment!r}: {[q.text for q in found]}"
    return hits[0]


def test_continuation_quote_keeps_the_speaker():
    found = quotes_of(
        "Acme Holdings lost its appeal on Monday.\n\n"
        '"We will take this to the Supreme Court," said Jane Porter, chief executive of Acme '
        'Holdings. "The ruling ignores the evidence."\n\n'
        '"Our customers deserve better than this."\n'
    )
    first = by_text(found, "Supreme Court")
    assert first.speaker == "Jane Porter"
    assert first.kind == "direct" and first.cue == "said"
    assert "chief executive of Acme Holdings" in first.descriptors
    assert first.organisation == "Acme Holdings"
    second = by_text(found, "ignores the evidence")
    assert second.speaker == "Jane Porter" and second.via == "continuation"
    third = by_text(found, "deserve better")
    assert third.speaker == "Jane Porter"


def test_pronoun_goes_to_the_last_compatible_named_speaker():
    found = quotes_of(
        "Judge Tom Reed adjourned the hearing until June.\n\n"
        'Mary Okafor, a lawyer for the family, said: "We are disappointed but not surprised."\n\n'
        '"They have had two years to prepare," she said. "Two years."\n\n'
        '"I will rule when I have read every page," Mr Reed told the court. "Not before," he added.'
    )
    assert by_text(found, "two years to prepare").speaker == "Mary Okafor"
    assert by_text(found, "two years to prepare").via == "pronoun"
    assert by_text(found, "every page").speaker == "Tom Reed"
    assert by_text(found, "Not before").speaker == "Tom Reed"
    assert by_text(found, "disappointed").descriptors == ["a lawyer for the family"]


def test_role_noun_resolves_through_the_descriptor():
    found = quotes_of(
        "Kremlin spokesman Dmitry Peskov spoke to reporters on Friday. Foreign Minister "
        "Sergey Lavrov was travelling.\n\n"
        '"We do not interfere in other countries\' elections," Peskov said.\n\n'
        '"Such claims are invented by our opponents," the spokesman added.\n\n'
        '"There will be no response," the minister said later.'
    )
    added = by_text(found, "invented by our opponents")
    assert added.speaker == "Dmitry Peskov" and added.via == "role"
    assert added.organisation == "Kremlin"
    assert by_text(found, "no response").speaker == "Sergey Lavrov"


def test_quote_split_over_paragraphs_is_one_quote():
    found = quotes_of(
        'The mayor, Ana Lopes, said: "The bridge will close for six months from March. '
        "Traffic will be sent through the old town.\n\n"
        '"We know this is hard for everyone who lives there."\n\n'
        "Work is expected to cost £40m.\n"
    )
    direct = [q for q in found if q.kind == "direct"]
    assert len(direct) == 1
    quote = direct[0]
    assert quote.text.startswith("The bridge will close")
    assert quote.text.endswith("everyone who lives there.")
    assert quote.speaker == "Ana Lopes"


def test_paragraphs_run_together_still_split_quote_from_narration():
    found = quotes_of(
        'Coach Sam Byrne said: "We played well. "The second half was our best of the season. '
        "Fans were superb. Meanwhile, club captain Lee Grant said the squad was tired. "
        '"We need a rest," Grant said.'
    )
    byrne = by_text(found, "We played well")
    assert byrne.speaker == "Sam Byrne"
    assert "Meanwhile" not in byrne.text
    assert by_text(found, "need a rest").speaker == "Lee Grant"


def test_scare_quotes_and_titles_are_not_speech():
    found = quotes_of(
        'The so-called "smart" meters went on sale on Monday. The firm\'s new film, '
        '"Blue Harbour Nights", opens in May. Critics called the plan "a farce", '
        "said Joe Bloggs of the Consumers' Association."
    )
    texts = [q.text for q in found if q.kind == "direct"]
    assert "smart" not in texts
    assert "Blue Harbour Nights" not in texts


def test_indirect_speech_with_an_explicit_speaker():
    found = quotes_of(
        "Chancellor Gordon Brown said on Tuesday that growth would be stronger next year. "
        "Inflation is likely to stay low, according to the Bank of England. "
        "The weather was cold.\n\n"
        "Profits rose by 8% in the third quarter, the company said."
    )
    growth = by_text(found, "growth would be stronger")
    assert growth.kind == "indirect" and growth.speaker == "Gordon Brown"
    assert growth.text.startswith("growth would be stronger")
    assert growth.descriptors == ["Chancellor"]
    assert by_text(found, "Inflation is likely").speaker == "Bank of England"
    assert not [q for q in found if "weather" in q.text]


def test_organisation_of_an_unnamed_spokeswoman():
    found = quotes_of(
        'The BSA said piracy cost its members $13bn last year. "We will pursue every '
        'case," a spokeswoman for the BSA said.'
    )
    quote = by_text(found, "pursue every case")
    assert quote.organisation == "BSA"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('"It was a mistake," admitted Prime Minister Tony Blair.', "Tony Blair"),
        ('Tony Blair told MPs: "It was a mistake."', "Tony Blair"),
        ("Tony Blair insisted the war had been right, in a speech in Sedgefield.", "Tony Blair"),
    ],
)
def test_cue_forms(text: str, speaker: str):
    found = quotes_of(text)
    assert [q.speaker for q in found] == [speaker]
