"""Curation rules without Telegram: roles, ids, the /add steps, edits, differences, /find."""

from __future__ import annotations

import pytest

from bot.domain.curation import (
    Draft,
    LoggedQuestion,
    Rules,
    actor_id,
    changes,
    draft_from_yaml,
    edit_fact,
    find_facts,
    new_fact_id,
    new_source_id,
    question_key,
    rank_missed,
    role_of,
    unverified,
    with_phrasing,
)
from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import KnowledgeBase
from bot.domain.models import Fact

SOURCE = "mdc-2023-belarus-iran"
QUOTE = (
    "Symbolically, the visit was meant to mark the 30th anniversary of establishing official"
    " diplomatic relations between the two countries."
)


@pytest.fixture(scope="module")
def rules(knowledge_base: KnowledgeBase, sources_dir: object) -> Rules:
    from pathlib import Path

    assert isinstance(sources_dir, Path)
    return Rules({s.id: s for s in knowledge_base.sources}, SourceTexts.from_dir(sources_dir))


def a_fact(base: KnowledgeBase, fact_id: str = "ir-30th-anniversary") -> Fact:
    return next(f for f in base.facts if f.id == fact_id)


def full_draft(rules: Rules) -> Draft:
    draft = Draft()
    assert draft.set_country("Iran", rules) == []
    assert draft.set_topic("diplomacy", rules) == []
    assert draft.set_date("2023-03", rules) == []
    assert draft.set_answer("en", "The visit marked 30 years of relations.", rules) == []
    assert draft.set_answer("ru", "Визит отметил 30 лет отношений.", rules) == []
    assert (
        draft.add_questions("en", "What did the visit mark?\nWhy 2023?\nwhich anniversary", rules)
        == []
    )
    assert draft.add_questions("ru", "Что отметил визит?\nКакая годовщина?", rules) == []
    assert draft.set_keywords("anniversary, годовщина", rules) == []
    assert draft.choose_source(SOURCE, rules) == []
    assert draft.add_quote(QUOTE, rules) == []
    return draft


def test_roles_owners_first_then_editors_else_nothing() -> None:
    assert role_of(1, {1}, {1}) == "owner"
    assert role_of(2, {1}, {2}) == "editor"
    assert role_of(3, {1}, {2}) is None
    assert role_of(None, {1}, {2}) is None
    assert actor_id(42) == "tg:42"


def test_fact_ids_are_readable_unique_slugs() -> None:
    taken = {"ir-visits-lukashenka-visit-2023"}
    made = new_fact_id("iran", "visits", "When did Lukashenka visit Tehran in 2023?", taken)
    assert made == "ir-visits-lukashenka-visit-2023-2"
    assert new_fact_id("belarus", "trade", "Экспорт в Иран", set()) == "by-trade-eksport-v"
    assert len(new_fact_id("iran", "geopolitics", "word " * 50, set())) <= 40
    assert new_source_id("Eurasia Daily Monitor", "2024-05", "A Title", set()) == "edm-2024-title"


def test_a_guided_draft_builds_a_valid_fact(rules: Rules, knowledge_base: KnowledgeBase) -> None:
    draft = full_draft(rules)
    fact, errors = draft.build(rules, {f.id for f in knowledge_base.facts})
    assert errors == []
    assert fact is not None
    assert fact.id.startswith("ir-diplomacy-")
    assert fact.evidence[0].quote == QUOTE
    assert fact.questions["en"][0] == "What did the visit mark?"


@pytest.mark.parametrize(
    ("step", "value", "field", "rule"),
    [
        ("country", "france", "country", "must be one of azerbaijan, iran, belarus"),
        ("topic", "sports", "topic", "must be one of"),
        ("date", "2023-13-01", "date", "must be YYYY, YYYY-MM, YYYY-MM-DD"),
        ("answer", "x" * 351, "answer.en", "351 characters, over the 350 limit"),
        ("questions", "only one", "questions.en", "needs at least 3 phrasings"),
        ("keywords", " , ", "keywords", "missing field"),
        ("source", "no-such-source", "sources", "unknown source id 'no-such-source'"),
    ],
)
def test_each_step_names_the_field_and_rule_and_keeps_the_draft(
    rules: Rules, step: str, value: str, field: str, rule: str
) -> None:
    draft = Draft()
    setters = {
        "country": lambda: draft.set_country(value, rules),
        "topic": lambda: draft.set_topic(value, rules),
        "date": lambda: draft.set_date(value, rules),
        "answer": lambda: draft.set_answer("en", value, rules),
        "questions": lambda: draft.add_questions("en", value, rules),
        "keywords": lambda: draft.set_keywords(value, rules),
        "source": lambda: draft.choose_source(value, rules),
    }
    errors = setters[step]()
    assert [f for f, _ in errors] == [field]
    assert rule in errors[0][1]
    assert draft == Draft()


def test_quotes_must_be_the_articles_words(rules: Rules) -> None:
    draft = Draft()
    draft.choose_source(SOURCE, rules)
    wrong = QUOTE.replace("30th", "40th")
    errors = draft.add_quote(wrong, rules)
    assert errors
    assert errors[0][0] == "evidence.quote"
    assert "does not occur in mdc-2023-belarus-iran; closest passage:" in errors[0][1]
    assert "30th anniversary" in errors[0][1]
    assert draft.add_quote("  ", rules) == [("evidence.quote", "empty quote")]
    long = draft.add_quote("word " * 41, rules)
    assert long[0] == ("evidence.quote", "41 words, over the 40-word limit")
    assert draft.evidence == []


def test_a_new_sources_quotes_are_stored_as_given_and_unverified(rules: Rules) -> None:
    draft = Draft()
    assert draft.set_source_field("title", "Oil deal talks") == []
    assert draft.set_source_field("outlet", "Some Weekly") == []
    assert draft.set_source_field("published", "2024-02-31") == [
        ("published", "must be YYYY, YYYY-MM or YYYY-MM-DD")
    ]
    assert draft.set_source_field("published", "2024-02") == []
    assert draft.set_source_field("url", "ftp://x") == [
        ("url", "must be an http(s) address or null")
    ]
    assert draft.set_source_field("url", "-") == []
    assert draft.finish_source(rules) == []
    assert draft.new_source is not None
    assert draft.new_source.id == "sw-2024-oil-deal-talks"
    assert draft.add_quote("Any words at all, since nobody holds the text.", rules) == []
    fact = Fact.from_dict(
        {
            **full_draft(rules).data(),
            "sources": draft.sources,
            "evidence": [e.to_dict() for e in draft.evidence],
            "id": "x",
        }
    )
    assert len(unverified(fact, rules.texts)) == 1


def test_the_one_message_form_reads_yaml(rules: Rules) -> None:
    text = f"""
country: iran
topic: diplomacy
date: 2023-03
answer:
  en: The visit marked 30 years of relations.
  ru: Визит отметил 30 лет отношений.
questions:
  en:
  - What did the visit mark?
  - Which anniversary?
  - Why was the visit symbolic?
  ru:
  - Что отметил визит?
  - Какая годовщина?
keywords: [anniversary]
sources: [{SOURCE}]
evidence:
- source: {SOURCE}
  quote: "{QUOTE}"
"""
    draft, errors = draft_from_yaml(text, rules, set())
    assert errors == []
    fact, errors = draft.build(rules, set())
    assert fact is not None
    assert fact.date == "2023-03"


def test_the_one_message_form_reports_every_problem(rules: Rules) -> None:
    _draft, errors = draft_from_yaml("country: [", rules, set())
    assert errors[0][0] == "yaml"
    assert "line" in errors[0][1]
    _, errors = draft_from_yaml("- a list", rules, set())
    assert errors[0][0] == "yaml"
    _, errors = draft_from_yaml("country: mars\ntopic: diplomacy\nsources: [nope]", rules, set())
    fields = {f for f, _ in errors}
    assert {"country", "date", "answer", "sources"} <= fields


def test_the_one_message_form_can_add_a_source(rules: Rules) -> None:
    text = """
country: iran
topic: trade
date: 2024
answer: {en: Trade grew., ru: Торговля выросла.}
questions: {en: [a one, a two, a three], ru: [б один, б два]}
keywords: [trade]
new_source: {title: A Report, outlet: Daily News, published: 2024, url: "https://example.org/r"}
evidence:
- quote: Trade grew a lot.
"""
    draft, errors = draft_from_yaml(text, rules, set())
    assert errors == []
    assert draft.new_source is not None
    assert draft.sources == [draft.new_source.id]
    fact, errors = draft.build(rules, set())
    assert errors == []
    assert fact is not None


def test_editing_a_field_validates_the_whole_fact(
    rules: Rules, knowledge_base: KnowledgeBase
) -> None:
    fact = a_fact(knowledge_base)
    edited, errors = edit_fact(fact, "answer.en", "A new answer.", rules)
    assert errors == []
    assert edited is not None
    assert edited.answer["en"] == "A new answer."
    _, errors = edit_fact(fact, "date", "March", rules)
    assert errors[0][0] == "date"
    _, errors = edit_fact(fact, "evidence", "Not in the article at all.", rules)
    assert errors[0][0] == "evidence[1].quote"
    assert "closest passage" in errors[0][1]
    _, errors = edit_fact(fact, "evidence", "no-such-article: Some words.", rules)
    assert ("evidence[1].source", "unknown source id 'no-such-article'") in errors
    _, errors = edit_fact(fact, "evidence", "word " * 41, rules)
    assert ("evidence[1].quote", "41 words, over the 40-word limit") in errors
    _, errors = edit_fact(fact, "evidence", "  ", rules)
    assert ("evidence", "missing field") in errors
    _, errors = edit_fact(fact, "timeline", "maybe", rules)
    assert errors == [("timeline", "must be yes or no")]
    timeline, _ = edit_fact(fact, "timeline", "yes", rules)
    assert timeline is not None
    assert timeline.timeline
    _, errors = edit_fact(fact, "id", "x", rules)
    assert errors[0][0] == "id"


def test_differences_name_each_changed_field(knowledge_base: KnowledgeBase) -> None:
    fact = a_fact(knowledge_base)
    after = fact.with_changes(answer={**fact.answer, "en": "Other."}, retired=True)
    found = {c.field: c for c in changes(fact, after)}
    assert set(found) == {"answer.en", "retired"}
    assert found["answer.en"].after == "Other."
    assert {c.field for c in changes(None, fact)} >= {"country", "answer.en", "evidence"}


def test_find_by_id_text_keyword_and_retired(knowledge_base: KnowledgeBase) -> None:
    facts = list(knowledge_base.facts)
    retired = a_fact(knowledge_base).with_changes(retired=True)
    facts = [retired if f.id == retired.id else f for f in facts]
    assert find_facts(facts, "ir-30th-anniversary")[0] == retired
    assert retired in find_facts(facts, "anniversary")
    assert find_facts(facts, "   ") == []


def test_unanswered_questions_group_however_typed_and_skip_ignored() -> None:
    rows = [
        LoggedQuestion("Who is Aliyev?", "en", "declined", 3, "2026-01-02T00:00:00+00:00"),
        LoggedQuestion("who is  aliyev", "en", "suggested", 2, "2026-01-03T00:00:00+00:00"),
        LoggedQuestion("Кто такой Алиев?", "ru", "declined", 4, "2026-01-01T00:00:00+00:00"),
        LoggedQuestion("Weather?", "en", "declined", 9, "2026-01-01T00:00:00+00:00"),
    ]
    ranked = rank_missed(rows, {question_key("weather")})
    assert [(m.question, m.count) for m in ranked] == [
        ("Who is Aliyev?", 5),
        ("Кто такой Алиев?", 4),
    ]
    assert (ranked[0].declined, ranked[0].suggested) == (3, 2)
    assert question_key("КТО такой Алиев ?") == question_key("кто такой алиев")


def test_a_phrasing_is_added_once(knowledge_base: KnowledgeBase) -> None:
    fact = a_fact(knowledge_base)
    once = with_phrasing(fact, "  How old are the ties? ", "en")
    assert once.questions["en"][-1] == "How old are the ties?"
    assert with_phrasing(once, "How old are the ties?", "en") == once
