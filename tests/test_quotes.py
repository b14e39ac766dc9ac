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


# --- attribution rules added for the gold set's misses (texts invented for the tests) ---------


@pytest.mark.parametrize(
    ("text", "speakers"),
    [
        pytest.param(
            'Maria Lindqvist won in straight sets. "I served well," she said.\n\n'
            "Elena Rossi was less happy with her game. "
            '"I never found my rhythm," she said. "The wind made it hard."\n\n'
            'But Rossi is confident ahead of the final. "I know I can win it," she said.',
            {
                "served well": "Maria Lindqvist",
                "never found my rhythm": "Elena Rossi",
                "wind made it hard": "Elena Rossi",  # a continuation
                "I can win it": "Elena Rossi",
            },
            id="a-pronoun-after-a-sentence-naming-its-subject-speaks-for-that-subject",
        ),
        pytest.param(
            "A spokesman for Citizens Watch Online criticised the ruling on Monday.\n\n"
            '"The court is trying to silence its critics," the organisation said in a statement.',
            {"silence its critics": "Citizens Watch Online"},
            id="an-organisation-is-known-by-its-spokesman-and-found-as-the-organisation",
        ),
        pytest.param(
            "In a statement from Nordwind Europe announcing the end of the scheme, the company "
            "denied that the scheme had harmed anyone.\n\n"
            '"Nothing suggests that any site was harmed," it said.',
            {
                "scheme had harmed anyone": "Nordwind Europe",
                "any site was harmed": "Nordwind Europe",
            },
            id="the-company-is-the-firm-named-in-the-same-sentence",
        ),
        pytest.param(
            "Prime Minister Paul Etame promised action.\n\n"
            "The prime minister's office said the fraud was found during an audit of the payroll. "
            'It added that the staff "appear to have received unearned salaries".',
            {"fraud was found": "prime minister's office", "staff": "prime minister's office"},
            id="an-office-owned-by-a-possessive-is-its-own-speaker",
        ),
        pytest.param(
            "Skyline has won the rights to the awards. Skyline said it was proud of the deal "
            "and would show the ceremony live.\n\n"
            "Skyline News and Skyline Travel will carry reports on the night.",
            {"proud of the deal": "Skyline"},
            id="a-name-written-short-is-not-a-longer-organisation",
        ),
        pytest.param(
            "Lt Col Eric Dane of the PCO told the Associated Press news agency the withdrawal was "
            'agreed by both sides. "Some areas are much safer than others," he added.\n\n'
            "The British Chambers of Commerce (BCC) said it was worried about early rate rises.",
            {
                "withdrawal was agreed": "Eric Dane",
                "much safer": "Eric Dane",
                "worried about early": "British Chambers of Commerce",
            },
            id="person-of-the-organisation-and-acronym-subjects",
        ),
        pytest.param(
            "Finance minister Ana Duarte announced the cuts on Monday.\n\n"
            "Tomas Brandt, the leader of the Federation of Public Service Workers said: "
            '"This is the day of the long knives."\n\n'
            "However, Lena Ortiz, a fund manager at Harbour Capital said the cuts were overdue.",
            {"day of the long knives": "Tomas Brandt", "cuts were overdue": "Lena Ortiz"},
            id="a-name-then-what-they-are-with-no-closing-comma-names-the-speaker",
        ),
        pytest.param(
            "Fuel prices rose again in March.\n\n"
            "The Department of Energy and Climate said the rise would not last. "
            "Nordbank and Westfjord Re said claims would reach $4bn this year.",
            {
                "rise would not last": "Department of Energy and Climate",
                "claims would reach": "Nordbank and Westfjord Re",
            },
            id="a-name-with-and-in-it-or-two-speaking-together",
        ),
        pytest.param(
            "The Last Ledger claims the bank hid its losses for a decade.\n\n"
            "The Bishop of Wexley, the Rt Rev Dr Anne Hollis, described the novel as a "
            '"fine thriller" but "poor history". Despite the plot, the Bishop said it was absurd.',
            {"fine thriller": "Anne Hollis", "it was absurd": "Anne Hollis"},
            id="the-name-in-an-appositive-that-opens-with-the",
        ),
        pytest.param(
            "Film legend Max Harlan has hit out at the studios. The star of Night Harbour "
            "said films were in decline.\n\n"
            "Councillor Ros Keane welcomed the plan. Mayor Ana Duarte said it was overdue.\n\n"
            "Earlier the Archbishop of Wexley wrote to all three parties urging them to "
            "stay calm. The chairman of the Harbour Police Federation said it was essential "
            "that officers kept their independence.",
            {
                "three parties": "Archbishop of Wexley",
                "officers kept their independence": "chairman of the Harbour Police Federation",
                "films were in decline": "Max Harlan",
            },
            id="an-office-of-a-named-place-is-its-holder-not-the-last-person-named",
        ),
        pytest.param(
            "The New York Herald said the mayor had resigned. New research suggests "
            "otherwise, Dr Lena Ortiz said.",
            {"mayor had resigned": "New York Herald", "New research": "Lena Ortiz"},
            id="new-starts-a-name-of-a-new-place-and-nothing-else",
        ),
        pytest.param(
            '"The clock is ticking," said state Sen. Ana Ruiz, the bill\'s sponsor.\n\n'
            "Hospital stays rose again, Harbour Gov. Tom Reed said on Monday.",
            {"clock is ticking": "Ana Ruiz", "Hospital stays rose": "Tom Reed"},
            id="an-abbreviated-title-with-its-full-stop-starts-the-name",
        ),
        pytest.param(
            "Harbour Gov. J.B. Ortiz said the dam would hold. Water use fell 4% last year, "
            "according to the U.S. Geological Survey.",
            {"dam would hold": "J.B. Ortiz", "Water use fell": "U.S. Geological Survey"},
            id="initials-and-dotted-abbreviations-stay-in-the-name",
        ),
        pytest.param(
            "Harbour Insight\n\nHarbour Motors said it would end production in June. "
            "Photo: Getty Images\nTom Reed said the plant would close.",
            {"end production": "Harbour Motors", "plant would close": "Tom Reed"},
            id="a-name-does-not-run-over-a-line-break",
        ),
        pytest.param(
            "Secretary of State Ana Ruiz said the talks would resume. Later, Director of "
            "National Intelligence Tom J. Reed said the threat had grown.",
            {"talks would resume": "Ana Ruiz", "threat had grown": "Tom J. Reed"},
            id="an-office-with-of-ends-before-the-name",
        ),
        pytest.param(
            "Attorney General Ana Ruiz said the charges would stand. UN Secretary General "
            "Tom Reed said the talks had failed.",
            {"charges would stand": "Ana Ruiz", "talks had failed": "Tom Reed"},
            id="general-after-an-office-is-the-office-not-the-name",
        ),
    ],
)
def test_attribution_rules(text: str, speakers: dict[str, str]):
    """Who says each quote (by a fragment of it), one rule of attribution a text."""
    found = quotes_of(text)
    assert {fragment: by_text(found, fragment).speaker for fragment in speakers} == speakers


def test_he_is_not_the_man_named_in_what_he_said():
    """Whoever "he" is in "He said Mr Berg had ...", it is not Mr Berg, although Berg was
    the last man to speak (over the BBC corpus such quotes went to Tony Blair, Adam Smith
    and others they were about)."""
    found = quotes_of(
        "Olav Berg announced the budget on Monday. He said the economy was strong.\n\n"
        "The response from the unions was cool. "
        "He said Mr Berg had made welcome announcements but cut too many jobs."
    )
    assert by_text(found, "economy was strong").speaker == "Olav Berg"
    assert not [q for q in found if "welcome announcements" in q.text and "Berg" in q.speaker]


def test_the_clause_before_but_does_not_describe_the_speaker():
    found = quotes_of(
        "Unions oppose the plans but Chancellor Olav Berg said the savings had been made."
    )
    quote = by_text(found, "savings had been made")
    assert quote.speaker == "Olav Berg" and quote.descriptors == ["Chancellor"]


def test_a_cue_word_used_as_a_noun_after_the_has_no_speaker():
    """ "The forecast has left ...", "The comments come after ...": a bare "The" was a
    subject, resolved to the last speaker (57 such quotes in the BBC corpus)."""
    found = quotes_of(
        'Harbour spokesman Tom Reed said: "We dodged a bullet."\n\n'
        "The forecast has left the fate of the parade balloons up in the air. "
        "The comments come after the mayor, Ana Duarte, said the parade would go ahead."
    )
    assert [q for q in found if "balloons" in q.text or "come after" in q.text] == []
    assert by_text(found, "parade would go ahead").speaker == "Ana Duarte"


def test_whom_a_speaker_told_is_not_who_spoke():
    """ "..., told CNN" read as "said Mr Smith": over the newsqa corpus some 500 quotes were
    CNN's, USA TODAY's or Reuters' (the outlet the speaker told)."""
    found = quotes_of(
        "Prices rose again.\n\n"
        '"We will see how brittle these markets are," Jesse Keenan, a professor of real '
        "estate at Tulane University's School of Architecture, told CNN.\n\n"
        '"It never stops," Dana Brunner, one of 1,500 firefighters battling a wildfire in '
        "the south, near Bordeaux, told The Guardian.\n\n"
        "The four children were siblings, their aunt, Brandi Smith, told CNN."
    )
    assert by_text(found, "brittle").speaker == "Jesse Keenan"
    assert by_text(found, "never stops").speaker == "Dana Brunner"
    found = quotes_of(
        'Brian Good said the roads were dead.\n\n"We will decide in the morning whether the '
        'balloons fly," Patrol Chief James Hall with the Harbour Police Department said.'
    )
    assert by_text(found, "balloons fly").speaker == "James Hall"
    assert not [q for q in found if q.speaker in {"CNN", "The Guardian", "Guardian"}]


def test_a_cue_word_after_an_owner_is_a_noun():
    found = quotes_of(
        "Mayor Ana Duarte spoke on Monday.\n\n"
        "Duarte's remarks came an hour after the council voted. The mayor's comments follow "
        "a week of protests over the tram line. Still, a call for anecdotes brought a number of "
        "comments, but no horror stories from the riders on the tram."
    )
    assert not found, found


def test_continued_reports_no_speech_of_its_own():
    found = quotes_of(
        'Mayor Ana Duarte spoke on Monday. "We have trust in this plan," she continued.\n\n'
        "Mr Glazer continued to increase his holding in the club over the summer. "
        "Its brands have continued to perform strongly in Italy and overseas."
    )
    assert [(q.speaker, q.text) for q in found] == [("Ana Duarte", "We have trust in this plan")]


def test_a_role_and_a_name_in_apposition_are_read_once_each():
    """In "Its CEO, CC Wei, said" each could pass for the name; reading one as the other's
    appositive again and again was an endless recursion (an article of the newsqa corpus
    stopped rag ingest)."""
    found = quotes_of(
        "Harbour Chips is building a plant in Ohio.\n\n"
        "Its CEO, CC Wei, said the plant would open next year."
    )
    quote = by_text(found, "open next year")
    assert quote.speaker == "CC Wei" and "Its CEO" in quote.descriptors


def test_a_role_noun_skips_a_person_the_article_gives_another_job():
    found = quotes_of(
        "Tom Barker is ready to sign a new deal after a fine season.\n\n"
        "He was once dropped by City boss Alan Pike. "
        'Talks have started and the defender said: "I want to stay here."'
    )
    quote = by_text(found, "I want to stay here")
    assert quote.speaker == "Tom Barker" and quote.via == "role"


def test_that_follows_the_cue_only_past_an_object_or_an_adverbial():
    found = quotes_of(
        "Ken Adams said he was pleased to give money to a party that had a vision for Britain. "
        "Jan Vos said the survey showed that shops needed to explain the tags to shoppers. "
        "Ann Lee told MPs on Tuesday that the budget would be balanced by 2008."
    )
    assert by_text(found, "pleased to give").text.startswith("he was pleased")
    assert by_text(found, "shops needed").text.startswith("the survey showed")
    assert by_text(found, "budget would be").text.startswith("the budget")


def test_a_quote_ending_in_a_cue_carries_its_reported_clause():
    found = quotes_of(
        "Ken Mori said shares rose in Tokyo. "
        'The merger of the two banks "would be a good move," he added. '
        'A spokeswoman said the office was investigating. "We have one complaint," she said.'
    )
    merger = [q for q in found if q.kind == "indirect" and "merger" in q.text]
    assert merger and merger[0].text.startswith("The merger")
    assert not [q for q in found if q.kind == "indirect" and "We have one" in q.text]
    assert not [
        q for q in found if q.kind == "indirect" and "investigating" in q.text and "one" in q.text
    ]


def test_an_attribution_inside_a_sentence_reports_what_follows_it():
    found = quotes_of(
        "Climate scientist Ada Lind first warned Congress in 1988. "
        "Cleaner ship fuel has reduced air pollution, but, according to Lind, the tradeoff "
        "has been faster warming. "
        "This, she says, is part of the reason for the record summer heat. "
        "Ships will get cleaner engines by 2030, Lind said, and ports will charge for dirty "
        "fuel. "
        "Prices rose sharply last month, according to the Office for National Statistics."
    )
    tradeoff = by_text(found, "faster warming")
    assert tradeoff.text.startswith("the tradeoff") and tradeoff.speaker == "Ada Lind"
    assert not [q for q in found if "air pollution" in q.text]
    # a cue set off by commas inside a sentence: what she says is the whole sentence
    heat = by_text(found, "record summer heat")
    assert heat.text.startswith("This, she says, is part") and heat.speaker == "Ada Lind"
    ships = by_text(found, "dirty fuel")
    assert ships.text.startswith("Ships will get cleaner") and ships.speaker == "Ada Lind"
    assert by_text(found, "Prices rose").speaker == "Office for National Statistics"


def test_how_the_words_reached_the_reporter_is_no_part_of_the_descriptor():
    found = quotes_of(
        '"Much of the analysis is credible," writes Ken Oda, a climate scientist at Tarn '
        "University, over email."
    )
    quote = by_text(found, "Much of the analysis")
    assert quote.speaker == "Ken Oda"
    assert quote.descriptors == ["a climate scientist at Tarn University"]
