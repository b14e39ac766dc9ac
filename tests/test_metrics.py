"""Hand-worked cases for rag.eval.metrics; each expected number is derived in a comment."""

import pytest

from rag.eval.metrics import (
    MetricSummary,
    chunk_is_relevant,
    citation_precision,
    citation_recall,
    citation_validity,
    contains,
    content_tokens,
    dedupe_ranking,
    exact_match,
    gold_citation_precision,
    gold_citation_recall,
    hit_at_k,
    judge_pass,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer,
    numbers_in,
    paired_bootstrap_delta,
    parse_judge_verdict,
    parse_markers,
    recall_at_k,
    refusal_rates,
    split_sentences,
    summarize,
    supports,
    text_hit_at_k,
    text_mrr_at_k,
    text_ndcg_at_k,
    text_recall_at_k,
    token_f1,
)

# --- retrieval, article level ------------------------------------------------------------


def test_dedupe_keeps_first_occurrence() -> None:
    assert dedupe_ranking(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_duplicates_cannot_push_hit_or_recall_above_one() -> None:
    ranked = ["g", "g", "g"]
    # deduplicated: [g]; gold {g, h}: hit 1, recall 1/2 (not 3/2), first gold at rank 1
    assert hit_at_k(ranked, {"g", "h"}, 3) == 1.0
    assert recall_at_k(ranked, {"g", "h"}, 3) == 0.5
    assert mrr_at_k(ranked, {"g", "h"}, 3) == 1.0


def test_mrr_uses_deduplicated_rank_and_k_cuts_off() -> None:
    ranked = ["a", "a", "b", "c", "a"]  # deduplicated: [a, b, c]; c is raw rank 4, dedup rank 3
    assert mrr_at_k(ranked, ["c"], 3) == pytest.approx(1 / 3)
    assert hit_at_k(ranked, ["c"], 3) == 1.0
    # k=2 keeps [a, b]: c is cut off, so hit, MRR, recall and nDCG are all 0
    assert hit_at_k(ranked, ["c"], 2) == 0.0
    assert mrr_at_k(ranked, ["c"], 2) == 0.0
    assert recall_at_k(ranked, ["c"], 2) == 0.0
    assert ndcg_at_k(ranked, ["c"], 2) == 0.0


def test_empty_retrieval_scores_zero() -> None:
    for metric in (hit_at_k, mrr_at_k, recall_at_k, ndcg_at_k):
        assert metric([], ["g"], 5) == 0.0


def test_no_gold_is_not_applicable_and_k_must_be_positive() -> None:
    assert hit_at_k(["a"], [], 5) is None  # unanswerable: skipped, not scored 0
    assert ndcg_at_k(["a"], set(), 5) is None
    with pytest.raises(ValueError):
        recall_at_k(["a"], ["a"], 0)


def test_ndcg_one_gold_doc() -> None:
    # gold at rank 2: DCG = 1/log2(3) = 0.63093; ideal over min(1, 5) = 1 hit: IDCG = 1
    assert ndcg_at_k(["x", "g"], ["g"], 5) == pytest.approx(0.63093, abs=1e-5)
    assert ndcg_at_k(["g", "x"], ["g"], 5) == 1.0


def test_ndcg_three_gold_docs() -> None:
    ranked, gold = ["g1", "x", "g2", "g3"], ["g1", "g2", "g3"]
    # k=3: gains [1, 0, 1]; DCG = 1 + 1/log2(4) = 1.5
    #      IDCG over 3 hits = 1 + 0.63093 + 0.5 = 2.13093; nDCG = 1.5 / 2.13093 = 0.70392
    assert ndcg_at_k(ranked, gold, 3) == pytest.approx(0.70392, abs=1e-5)
    # k=5: gains [1, 0, 1, 1]; DCG = 1.5 + 1/log2(5) = 1.5 + 0.43068 = 1.93068
    #      IDCG still over min(3, 5) = 3 hits = 2.13093; nDCG = 0.90603
    assert ndcg_at_k(ranked, gold, 5) == pytest.approx(0.90603, abs=1e-5)
    # k=2: gains [1, 0]; DCG = 1; IDCG over min(3, 2) = 2 hits = 1.63093; nDCG = 0.61315
    assert ndcg_at_k(ranked, gold, 2) == pytest.approx(0.61315, abs=1e-5)
    # recall@3 = |{g1, g2}| / 3
    assert recall_at_k(ranked, gold, 3) == pytest.approx(2 / 3)


# --- retrieval, text mode ----------------------------------------------------------------

CHUNKS = ["The  cat\nsat on the mat.", "unrelated", "The cat sat", "Dogs bark loudly."]
GOLD_TEXTS = ["cat sat on the", "Dogs  bark"]


def test_chunk_relevance_ignores_whitespace_but_not_case() -> None:
    # "Thecatsatonthemat." contains "catsatonthe"
    assert chunk_is_relevant(CHUNKS[0], GOLD_TEXTS)
    # "Thecatsat" does not contain "catsatonthe" nor "Dogsbark"
    assert not chunk_is_relevant(CHUNKS[2], GOLD_TEXTS)
    assert not chunk_is_relevant("the dogs bark", ["Dogs bark"])  # case-sensitive
    assert not chunk_is_relevant("anything", ["  \n"])  # an empty gold never matches


def test_text_mode_metrics() -> None:
    # relevant positions: 1 (gold 0) and 4 (gold 1)
    assert text_hit_at_k(CHUNKS, GOLD_TEXTS, 4) == 1.0
    assert text_mrr_at_k(CHUNKS, GOLD_TEXTS, 4) == 1.0
    assert text_recall_at_k(CHUNKS, GOLD_TEXTS, 4) == 1.0  # 2 of 2 gold texts
    # gains [1, 0, 0, 1]: DCG = 1 + 1/log2(5) = 1.43068; IDCG over 2 = 1.63093; 0.87722
    assert text_ndcg_at_k(CHUNKS, GOLD_TEXTS, 4) == pytest.approx(0.87722, abs=1e-5)
    # k=2: only gold 0 found -> recall 1/2; nDCG = 1 / 1.63093 = 0.61315
    assert text_recall_at_k(CHUNKS, GOLD_TEXTS, 2) == 0.5
    assert text_ndcg_at_k(CHUNKS, GOLD_TEXTS, 2) == pytest.approx(0.61315, abs=1e-5)
    # first relevant chunk at rank 2 -> MRR 1/2
    assert text_mrr_at_k(["no", "Dogs bark"], GOLD_TEXTS, 5) == 0.5


def test_text_mode_overlapping_chunks_cannot_exceed_one() -> None:
    chunks = ["xx gold text yy", "gold text yy zz"]  # both contain the single gold text
    # second chunk finds nothing new: gains [1, 0]; DCG 1, IDCG 1 -> 1.0 (not 1.63)
    assert text_ndcg_at_k(chunks, ["gold text"], 2) == 1.0
    assert text_recall_at_k(chunks, ["gold text"], 2) == 1.0
    assert text_hit_at_k(chunks, ["gold text"], 2) == 1.0


def test_text_mode_empty_cases() -> None:
    assert text_hit_at_k([], GOLD_TEXTS, 5) == 0.0
    assert text_mrr_at_k([], GOLD_TEXTS, 5) == 0.0
    assert text_recall_at_k([], GOLD_TEXTS, 5) == 0.0
    assert text_ndcg_at_k([], GOLD_TEXTS, 5) == 0.0
    assert text_recall_at_k(CHUNKS, [" "], 5) is None  # no usable gold text


# --- answers -----------------------------------------------------------------------------


def test_normalize_answer() -> None:
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    # curly quotes, apostrophe, em dash and hyphen removed; article "a" dropped
    assert normalize_answer("“Erdoğan’s” rival — a deep-fake") == "erdoğans rival deepfake"


def test_exact_match() -> None:
    assert exact_match("The Eiffel Tower.", ["eiffel tower"]) == 1.0  # both "eiffel tower"
    assert exact_match("Eiffel", ["eiffel tower", "Tour Eiffel"]) == 0.0
    assert exact_match("Paris", ["Lyon", "paris!"]) == 1.0  # max over aliases


def test_token_f1() -> None:
    # pred tokens [eiffel, tower, in, paris]; gold [eiffel, tower]: common 2
    # P = 2/4, R = 2/2, F1 = 2 * 0.5 * 1 / 1.5 = 2/3; against "Tour Eiffel": common 1,
    # P = 1/4, R = 1/2, F1 = 1/3; the max is 2/3
    assert token_f1("the Eiffel tower in Paris", ["Tour Eiffel", "Eiffel Tower"]) == pytest.approx(
        2 / 3
    )
    assert token_f1("London", ["Paris"]) == 0.0


def test_contains() -> None:
    # "it was eiffel tower in paris" contains "eiffel tower"
    assert contains("It was the Eiffel Tower, in Paris.", ["The Eiffel Tower"]) == 1.0
    assert contains("About 10 people.", ["10"]) == 1.0
    assert contains("About 100 people.", ["10"]) == 0.0  # no match inside a longer number
    assert contains("Berlin", ["Paris", "Lyon"]) == 0.0


def test_empty_gold_never_matches() -> None:
    assert exact_match("", ["", "Paris"]) == 0.0  # "" == "" is not a match
    assert contains("anything at all", ["", "the"]) is None  # no usable gold: not applicable
    assert token_f1("", ["!!"]) is None
    with pytest.raises(TypeError):
        exact_match("Paris", "Paris")  # a str is a Sequence[str]; refused at run time


# --- citations ---------------------------------------------------------------------------


def test_split_sentences_keeps_markers_and_abbreviations() -> None:
    answer = "Mr. Smith went to the U.S. on Jan. 6 [1]. He paid $3.5 million [2][3]. He left!"
    assert split_sentences(answer) == [
        "Mr. Smith went to the U.S. on Jan. 6 [1].",
        "He paid $3.5 million [2][3].",
        "He left!",
    ]


def test_split_sentences_markers_after_period_and_lines() -> None:
    assert split_sentences("Claim one. [1] Claim two [2, 3].") == [
        "Claim one. [1]",
        "Claim two [2, 3].",
    ]
    # markers alone on a line go with the sentence before; list bullets are stripped
    assert split_sentences("The vote was held.\n\n[1][2]") == ["The vote was held. [1][2]"]
    assert split_sentences("- First point [1]\n- Second point [2]") == [
        "First point [1]",
        "Second point [2]",
    ]
    # a wrapped line is joined back into its sentence
    assert split_sentences("The minister said\nthe vote was close [1].") == [
        "The minister said the vote was close [1]."
    ]
    assert split_sentences("   ") == []


def test_parse_markers() -> None:
    assert parse_markers("A [1][2] b [3, 4] c [5]") == [1, 2, 3, 4, 5]
    assert parse_markers("no markers, [x] or [] here") == []
    # every form the citation checker reads: ranges expanded, a dagger's location dropped,
    # and a range that names no sources counts as source 0, which no answer is shown
    text = "A [1-3]. B [Source 2†L4-L9]. C (Source 4) [4-1] [2-40]"
    assert parse_markers(text) == [1, 2, 3, 2, 4, 0, 0]
    assert citation_validity("A [1-3]. B [4-1].", 3) == 0.75


def test_content_tokens_and_numbers() -> None:
    # "the", "that", "was", "said" are stopwords
    assert content_tokens("The minister said that the vote was close.") == [
        "minister",
        "vote",
        "close",
    ]
    assert content_tokens("Erdoğan’s rival") == ["erdogan", "rival"]  # accents, possessive
    assert numbers_in("1,200 people, 3.50 billion and 15 seats") == ["1200", "3.5", "15"]


def test_stopwords_carry_no_claim() -> None:
    # function words, contractions and the fragments tokenizers leave are never content
    sentence = "They didn't say whether it would go via the bridge or within the week"
    assert content_tokens(sentence) == ["go", "bridge", "week"]
    assert content_tokens("don ll ve shouldn mightn't should've etc per among those") == []
    # so φ judges a sentence padded with them by its content words alone: 3 of 3 are in the
    # passage; counting the 10 function words it would be 3 of 13, under the 50% bar
    passage = ["Turnout reached 61 percent."]
    padded = "It was said that, among those who were there, turnout had reached 61 percent."
    assert supports(passage, padded)
    # and a claim whose content words are missing is not: 2 of 5 (turnout, percent)
    assert not supports(passage, "It was said that turnout fell among rural voters to 61 percent.")


PASSAGE = "The election commission said turnout reached 61 percent on Sunday."


def test_supports_token_threshold_and_numbers() -> None:
    # tokens {turnout, reached, percent} all in P; number 61 in P
    assert supports([PASSAGE], "Turnout reached 61 percent [1].")
    # same tokens but 64 is not in P -> unsupported
    assert not supports([PASSAGE], "Turnout reached 64 percent [1].")
    # {turnout, reached, record, levels}: 2 of 4 = 50% -> supported (at least half)
    assert supports([PASSAGE], "Turnout reached record levels.")
    # {turnout, collapsed, dramatically, overnight}: 1 of 4 -> unsupported
    assert not supports([PASSAGE], "Turnout collapsed dramatically overnight.")
    assert not supports([], "Turnout reached 61 percent.")


def test_supports_sentence_without_content_tokens() -> None:
    assert not supports([PASSAGE], "It was [1].")  # nothing to check -> unsupported
    assert supports(["Held in 2023."], "In 2023 [1].")  # numbers only: they decide
    assert not supports(["Held in 2022."], "In 2023 [1].")


def test_citation_validity() -> None:
    # markers 1, 2, 7, 0, 3; shown 1..3 -> valid 1, 2, 3 -> 3/5
    assert citation_validity("A [1]. B [2][7]. C [0, 3].", 3) == pytest.approx(0.6)
    assert citation_validity("No markers at all.", 3) is None


PASSAGES = {
    1: "Turnout reached 61 percent on Sunday.",
    2: "The opposition rejected the result.",
    3: "Turnout reached a record.",
    4: "It was 61 percent.",
}


def test_citation_recall_with_uncited_sentence() -> None:
    answer = (
        "Turnout reached 61 percent [1]. The opposition rejected the result [2]. "
        "Observers praised the count."
    )
    # sentence scores 1, 1, 0 (uncited) -> 2/3
    assert citation_recall(answer, PASSAGES) == pytest.approx(2 / 3)
    # cites the wrong passage: no token of {opposition, rejected, result} in P1 -> 0
    assert citation_recall("The opposition rejected the result [1].", PASSAGES) == 0.0
    # marker 9 names nothing and is ignored; [1] alone supports -> 1
    assert citation_recall("Turnout reached 61 percent [1][9].", PASSAGES) == 1.0
    assert citation_recall("", PASSAGES) is None


def test_citation_precision_redundant_citation() -> None:
    # joint {1, 2} supports; [1] alone supports -> precise; [2] alone does not while the
    # others ({1}) do -> redundant. 1 precise of 2 -> 0.5
    assert citation_precision("Turnout reached 61 percent [1][2].", PASSAGES) == 0.5


def test_citation_precision_both_needed() -> None:
    # P3 lacks 61, P4 has 1 of 3 tokens: neither supports alone, and neither's partner does,
    # but jointly they do -> both precise -> 2/2
    assert citation_precision("Turnout reached 61 percent [3][4].", PASSAGES) == 1.0


def test_citation_precision_unsupported_and_invalid() -> None:
    # joint citations do not support the sentence -> the citation is not precise (ALCE) -> 0/1
    assert citation_precision("The opposition rejected the result [1].", PASSAGES) == 0.0
    # [1] precise; [9] names no passage -> imprecise -> 1/2
    assert citation_precision("Turnout reached 61 percent [1][9].", PASSAGES) == 0.5
    assert citation_precision("Nothing cited here.", PASSAGES) is None


def test_gold_citation_precision_and_recall() -> None:
    # distinct cited {a, b}, gold {a, c}: precision 1/2, recall 1/2
    assert gold_citation_precision(["a", "b", "a"], ["a", "c"]) == 0.5
    assert gold_citation_recall(["a", "b", "a"], ["a", "c"]) == 0.5
    assert gold_citation_precision([], ["a"]) is None  # nothing cited
    assert gold_citation_recall([], ["a"]) == 0.0
    assert gold_citation_recall(["a"], []) is None  # no gold ids


# --- refusals ----------------------------------------------------------------------------


def test_refusal_rates() -> None:
    rows = [(True, False), (True, True), (False, True), (False, False), (False, True)]
    # unanswerable 3, refused 2 -> 2/3; answerable 2, refused 1 -> 1/2
    rejection, false_refusal = refusal_rates(rows)
    assert rejection == pytest.approx(2 / 3)
    assert false_refusal == 0.5


def test_refusal_rates_zero_denominators() -> None:
    assert refusal_rates([(True, False)]) == (None, 0.0)  # no unanswerable questions
    assert refusal_rates([(False, True)]) == (1.0, None)  # no answerable questions
    assert refusal_rates([]) == (None, None)


# --- aggregation -------------------------------------------------------------------------


def test_summarize_skips_none() -> None:
    s = summarize([1.0, None, 0.0, None, 0.5], invalid=2)
    # mean of (1, 0, 0.5) = 0.5, not 1.5/5 = 0.3
    assert (s.mean, s.n, s.skipped, s.invalid) == (0.5, 3, 2, 2)
    assert s.ci_low is not None and s.ci_high is not None
    assert 0.0 <= s.ci_low <= 0.5 <= s.ci_high <= 1.0


def test_summarize_rejects_nan() -> None:
    with pytest.raises(ValueError):
        summarize([1.0, float("nan")])


def test_summarize_small_cases() -> None:
    assert summarize([0.7]) == MetricSummary(0.7, 1, 0, 0, 0.7, 0.7)
    assert summarize([None]) == MetricSummary(None, 0, 1, 0, None, None)
    assert summarize([]) == MetricSummary(None, 0, 0, 0, None, None)


def test_bootstrap_is_deterministic_and_brackets_mean() -> None:
    values: list[float | None] = [0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 1.0, 0.0]
    a, b = summarize(values, seed=7), summarize(values, seed=7)
    assert a == b
    # mean = 4.5 / 8 = 0.5625
    assert a.mean == 0.5625
    assert a.ci_low is not None and a.ci_high is not None
    assert a.ci_low < 0.5625 < a.ci_high
    # resample means of [0, 1] are 0, 0.5, 1 with p = 1/4, 1/2, 1/4: the 2.5% and 97.5%
    # percentiles of 1000 draws are 0 and 1
    two = summarize([0.0, 1.0])
    assert (two.ci_low, two.ci_high) == (0.0, 1.0)


def test_paired_bootstrap_delta() -> None:
    # pairs (0, 1), (1, 1); (None, 1) and (0.5, None) skipped; deltas b - a = [1, 0] -> 0.5
    d = paired_bootstrap_delta([0.0, 1.0, None, 0.5], [1.0, 1.0, 1.0, None])
    assert (d.mean, d.n, d.skipped) == (0.5, 2, 2)
    assert d.ci_low is not None and d.ci_high is not None
    assert d.ci_low <= 0.5 <= d.ci_high
    # identical runs: every delta 0 -> interval [0, 0]
    same = paired_bootstrap_delta([0.2, 0.9], [0.2, 0.9])
    assert (same.mean, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        paired_bootstrap_delta([1.0], [1.0, 0.0])


# --- LLM judge ---------------------------------------------------------------------------


def test_parse_judge_verdict_valid_and_fenced() -> None:
    assert parse_judge_verdict('{"score": 4, "reason": "ok"}') == {"score": 4, "reason": "ok"}
    assert parse_judge_verdict('```json\n{"score": 5}\n```') == {"score": 5}
    assert parse_judge_verdict('  ```\n{"score": 1}\n```  ') == {"score": 1}
    assert parse_judge_verdict('{"supported": true}', require_score=False) == {"supported": True}


@pytest.mark.parametrize(
    "reply",
    [
        'Sure! {"score": 4}',  # prose before the object
        '{"score": 4} Hope this helps.',  # prose after
        '```json\n{"score": 4}\n``` done',  # prose after the fence
        '{"score": 6}',  # out of range
        '{"score": 0}',
        '{"score": 4.0}',  # not an integer
        '{"score": "4"}',
        '{"score": true}',
        '{"score": NaN}',
        '{"reason": "fine"}',  # score missing
        "yes",
        "[4]",
        "",
    ],
)
def test_parse_judge_verdict_rejects(reply: str) -> None:
    assert parse_judge_verdict(reply) is None


def test_judge_pass() -> None:
    assert judge_pass(4) and judge_pass(5)
    assert not judge_pass(3)
