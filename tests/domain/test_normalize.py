"""The normaliser: one comparable key per word, whatever the case, script or language."""

from __future__ import annotations

import pytest

from bot.domain.lexicon import Lexicon
from bot.domain.normalize import fold, key, keys, language_of, words


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon()


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("LUKASHENKA", "lukashenka"),
        ("Azerbaijan", "aZERBAIJAN"),
        ("БЕЛАРУСЬ", "беларусь"),
        ("ИРАН", "иран"),
    ],
)
def test_case_does_not_change_keys(left: str, right: str) -> None:
    assert keys(left) == keys(right)
    assert keys(left)


def test_punctuation_separates_words_and_is_dropped() -> None:
    assert words("Belarus, Iran!? (and) «Azerbaijan»...") == [
        "belarus",
        "iran",
        "and",
        "azerbaijan",
    ]
    assert keys("Когда?!") == keys("когда")
    assert words("?!.,;:—") == []


def test_empty_and_blank_text_have_no_words() -> None:
    assert words("") == []
    assert keys("   \n\t ") == []


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("ｌｕｋａｓｈｅｎｋｏ", "lukashenko"),  # full-width letters
        ("ＬＵＫＡＳＨＥＮＫＯ", "lukashenko"),
        ("ﬁrst", "first"),  # ligature
        ("Минския\u0306", "Минский"),  # й written as и + combining breve
        ("T\u00a0-\u00a072", "T - 72"),  # no-break spaces
    ],
)
def test_unicode_forms_are_normalised(variant: str, plain: str) -> None:
    assert keys(variant) == keys(plain)


def test_decomposed_letter_is_one_letter() -> None:
    assert fold("и\u0306") == "й"
    assert words("Минскии\u0306") == words("Минский")


@pytest.mark.parametrize(
    ("belarusian", "russian"),
    [
        ("Беларусі", "Беларуси"),
        ("Аліеў", "Алиев"),
        ("Мінск", "Минск"),
        ("Іран", "Иран"),
        ("Лукашэнка", "Лукашенка"),
    ],
)
def test_belarusian_letters_give_the_russian_keys(belarusian: str, russian: str) -> None:
    assert keys(belarusian) == keys(russian)


def test_belarusian_letters_fold_to_russian_ones() -> None:
    assert fold("ІіЎў") == "иивв"


@pytest.mark.parametrize("apostrophe", ["'", "’", "ʼ"])
def test_belarusian_apostrophe_keeps_the_word_whole(apostrophe: str) -> None:
    belarusian = f"аб{apostrophe}ём"
    assert words(belarusian) == ["абём"]
    # Russian writes ъ where Belarusian writes the apostrophe; both key alike.
    assert keys(belarusian) == keys("абъём")
    # Before a letter Russian lacks as well (і), which is mapped only afterwards.
    assert words(f"сям{apostrophe}і") == ["сями"]
    assert words(f"Мар{apostrophe}і") == ["мари"]


def test_english_apostrophe_is_a_word_break(lexicon: Lexicon) -> None:
    assert words("Lukashenka's") == ["lukashenka", "s"]
    assert lexicon.terms("Lukashenka's visit") == lexicon.terms("Lukashenka visit")


def test_keys_of_cyrillic_words_are_latin() -> None:
    for word in ("Лукашенко", "Азербайджана", "щи", "Тэгеран", "Мінскі"):
        for k in keys(word):
            assert k.isascii(), (word, k)


def test_transliteration_meets_the_latin_spelling() -> None:
    assert keys("Баку") == keys("Baku")
    assert keys("Тегеран") == ["tegeran"]
    assert key("минск") == key("minsk")


@pytest.mark.parametrize("spelling", ["Лукашенко", "Лукашэнка", "Лукашенка", "Lukashenko"])
def test_lexicon_brings_every_lukashenka_spelling_together(
    lexicon: Lexicon, spelling: str
) -> None:
    assert lexicon.terms(spelling) == lexicon.terms("Lukashenka") == ["lukashenka"]


def test_inflected_belarusian_name_is_still_lukashenka(lexicon: Lexicon) -> None:
    assert lexicon.terms("Лукашэнкі") == ["lukashenka"]
    assert lexicon.terms("Лукашенко") == lexicon.terms("ЛУКАШЕНКО!!!")


@pytest.mark.parametrize(
    ("spellings", "concept"),
    [
        (["Aliyev", "Aliev", "Алиев", "Аліеў"], "aliyev"),
        (["Palanez", "Polonez", "Polonaise", "Полонез", "Паланэз"], "palanez"),
        (["Tehran", "Teheran", "Тегеран", "Тэгеран"], "tehran"),
        (["EAEU", "ЕАЭС"], "eaeu"),
    ],
)
def test_lexicon_folds_spelling_variants(
    lexicon: Lexicon, spellings: list[str], concept: str
) -> None:
    for spelling in spellings:
        assert lexicon.terms(spelling) == [concept], spelling


@pytest.mark.parametrize(
    "model", ["T-72", "Т-72", "T72", "Т72", "t-72", "T‑72", "T–72"]
)  # Latin, Cyrillic, no hyphen, non-breaking hyphen, en dash
def test_tank_model_names_share_one_key(model: str) -> None:
    assert keys(model) == ["t72"]


@pytest.mark.parametrize("model", ["Су-25", "Su-25", "Su25", "су25"])
def test_aircraft_model_names_share_one_key(model: str) -> None:
    assert keys(model) == ["su25"]


def test_other_model_names_are_one_word() -> None:
    assert keys("BTR-70") == keys("БТР-70") == ["btr70"]
    assert keys("D-30") == ["d30"]


def test_hyphen_between_words_still_separates_them() -> None:
    assert words("Belarus-Iran") == ["belarus", "iran"]


@pytest.mark.parametrize("dash", ["–", "-", "‑"])
def test_short_year_range_is_read_as_both_years(dash: str) -> None:
    assert words(f"in 2002{dash}12") == ["in", "2002", "2012"]


def test_full_year_range_keeps_both_years() -> None:
    assert words("2023–2025") == ["2023", "2025"]
    assert words("1990–95") == ["1990", "1995"]


def test_plain_numbers_are_not_taken_for_ranges() -> None:
    assert words("153 T-72 tanks") == ["153", "t72", "tanks"]
    assert words("$885.5 million") == ["885", "5", "million"]


def test_light_stemming_folds_inflections() -> None:
    assert keys("tanks") == keys("tank")
    assert keys("Азербайджана") == keys("Азербайджан")
    assert keys("визиты") == keys("визит")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("When did Lukashenka visit Iran?", "en"),
        ("Когда Лукашенко посетил Иран?", "ru"),
        ("Калі Лукашэнка наведаў Іран?", "ru"),
        ("Lukashenka Лукашенко", "ru"),
        ("2024", "en"),
        ("", "en"),
    ],
)
def test_reply_language_follows_the_script(text: str, lang: str) -> None:
    assert language_of(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        "153 T-72 tanks in 2002–12 for Лукашэнкі's аб'ём and Ａｌｉｙｅｖ",
        "Су-25\u00a0sold 1990–95;\tBelarus-Iran ties\n(T‑72)",
    ],
)
def test_lexicon_reads_a_text_token_by_token_as_words_reads_it_whole(
    lexicon: Lexicon, text: str
) -> None:
    """The lexicon memoises what each whitespace-separated token reads as."""
    assert lexicon.analyse(text).surface == [k for k in keys(text) if k not in lexicon.stop_keys]


def test_questions_read_together_read_as_each_alone(lexicon: Lexicon) -> None:
    texts = [
        "When did trade with the United Arab Emirates grow three times?",
        "Когда товарооборот вырос в три раза?",
        "the of",
        "Why, and why again, did state media attack Tehran?",
    ]
    phrasings, terms, intents = lexicon.phrasings(texts)
    alone = [lexicon.analyse(text) for text in texts]
    assert phrasings == [a.phrasing for a in alone]
    assert terms == {t for a in alone for t in a.terms}
    assert intents == {i for a in alone for i in a.intents}


def test_a_phrase_does_not_run_from_one_text_into_the_next(lexicon: Lexicon) -> None:
    apart = ["United", "States"]
    assert lexicon.content_terms(["United States"]) == {"usa"}
    assert "usa" not in lexicon.content_terms(apart)
    assert lexicon.keyword_terms(apart) == lexicon.content_terms(apart)
