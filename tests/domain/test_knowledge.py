"""The fact-file validator: every problem reported as `file:line: what is wrong`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import (
    KnowledgeBase,
    KnowledgeError,
    parse_knowledge,
    read_folder,
    render_files,
    validate_fact_data,
)
from bot.domain.models import ANSWER_LIMIT, QUOTE_WORD_LIMIT

IRAN_FACT = "ir-visit-march-2023"
IRAN_SOURCE = "mdc-2023-belarus-iran"


def dump(items: list[dict[str, Any]]) -> str:
    """Fact-file text in the same layout as the real files."""
    return yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)


def line_of(text: str, prefix: str, after: int = 0) -> int:
    """1-based number of the first line after line `after` starting with prefix (indent kept)."""
    for number, line in enumerate(text.splitlines(), 1):
        if number > after and line.startswith(prefix):
            return number
    raise AssertionError(f"no line starts with {prefix!r}")


@pytest.fixture(scope="module")
def sources_text(knowledge_dir: Path) -> str:
    return (knowledge_dir / "sources.yaml").read_text(encoding="utf-8")


@pytest.fixture
def iran_fact(knowledge_base: KnowledgeBase) -> dict[str, Any]:
    """A valid fact as it is written in a file, to break one field at a time."""
    fact = next(f for f in knowledge_base.facts if f.id == IRAN_FACT)
    return copy.deepcopy(fact.to_dict())


@pytest.fixture(scope="module")
def texts(sources_dir: Path) -> SourceTexts:
    return SourceTexts.from_dir(sources_dir)


def problems_of(files: dict[str, str], texts: SourceTexts | None = None) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        parse_knowledge(files, texts)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


def test_the_real_files_are_valid_with_every_quote_checked(
    knowledge_dir: Path, texts: SourceTexts
) -> None:
    files = read_folder(knowledge_dir)
    base = parse_knowledge(files, texts)
    listed = sum(
        text.count("\n- id: ") + text.startswith("- id: ")
        for name, text in files.items()
        if name.startswith("facts/")
    )
    assert len(base.facts) == listed
    assert len(base.facts) >= 60
    assert {s.id for s in base.sources} == {
        "bif-2016-azerbaijan-belarus",
        "edm-2024-belarus-azerbaijan",
        "mdc-2023-belarus-iran",
    }
    for source in base.sources:
        assert texts.knows(source.id), f"no article text for {source.id}"


def test_render_files_reproduces_the_knowledge_files_byte_for_byte(knowledge_dir: Path) -> None:
    files = read_folder(knowledge_dir)
    rendered = render_files(parse_knowledge(files))
    assert sorted(rendered) == sorted(files)
    for name, text in files.items():
        assert rendered[name] == text, f"{name} is not in canonical form"


def test_yaml_syntax_error_names_file_and_line(
    sources_text: str, iran_fact: dict[str, Any]
) -> None:
    text = dump([iran_fact])
    topic = line_of(text, "  topic:")
    lines = text.splitlines(keepends=True)
    lines[topic - 1] = "\ttopic: visits\n"
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": "".join(lines)})
    assert len(problems) == 1
    assert problems[0].startswith(f"facts/iran.yaml:{topic}: YAML error: ")
    assert "\\t" in problems[0] or "tab" in problems[0].lower()


def test_yaml_error_in_sources_file_is_located(
    sources_text: str, iran_fact: dict[str, Any]
) -> None:
    broken = sources_text.replace("  outlet:", "  outlet: [", 1)
    problems = problems_of({"sources.yaml": broken, "facts/iran.yaml": dump([iran_fact])})
    assert problems[0].startswith("sources.yaml:")
    assert "YAML error" in problems[0]
    reported = int(problems[0].split(":")[1])
    assert line_of(broken, "  outlet: [") <= reported <= line_of(broken, "  outlet: [") + 1


def test_a_file_that_is_not_a_list_is_refused(sources_text: str) -> None:
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": "id: x\n"})
    assert problems == ["facts/iran.yaml:1: must be a YAML list"]


def test_duplicate_fact_id_in_one_file(sources_text: str, iran_fact: dict[str, Any]) -> None:
    text = dump([iran_fact, copy.deepcopy(iran_fact)])
    second = line_of(text, f"- id: {IRAN_FACT}", after=1)
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert problems == [
        f"facts/iran.yaml:{second}: duplicate fact id '{IRAN_FACT}' (first at facts/iran.yaml:1)"
    ]


def test_duplicate_fact_id_across_files(sources_text: str, iran_fact: dict[str, Any]) -> None:
    problems = problems_of(
        {
            "sources.yaml": sources_text,
            "facts/extra.yaml": dump([iran_fact]),
            "facts/iran.yaml": dump([iran_fact]),
        }
    )
    assert problems == [
        f"facts/iran.yaml:1: duplicate fact id '{IRAN_FACT}' (first at facts/extra.yaml:1)"
    ]


def test_duplicate_source_id(sources_text: str, iran_fact: dict[str, Any]) -> None:
    entries = yaml.safe_load(sources_text)
    text = dump([*entries, copy.deepcopy(entries[0])])
    last = line_of(text, f"- id: {entries[0]['id']}", after=1)
    problems = problems_of({"sources.yaml": text, "facts/iran.yaml": dump([iran_fact])})
    assert problems == [
        f"sources.yaml:{last}: duplicate source id '{entries[0]['id']}' (first at line 1)"
    ]


def test_unknown_source_id(sources_text: str, iran_fact: dict[str, Any]) -> None:
    iran_fact["sources"] = ["no-such-article"]
    iran_fact["evidence"][0]["source"] = "no-such-article"
    text = dump([iran_fact])
    sources_line = line_of(text, "  - no-such-article")
    evidence_line = line_of(text, "  - source: no-such-article")
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert problems == [
        f"facts/iran.yaml:{sources_line}: sources: unknown source id 'no-such-article'",
        f"facts/iran.yaml:{evidence_line}: evidence[1].source: unknown source id"
        " 'no-such-article'",
    ]


def test_missing_fields(sources_text: str, iran_fact: dict[str, Any]) -> None:
    del iran_fact["topic"]
    del iran_fact["questions"]
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": dump([iran_fact])})
    assert problems == [
        "facts/iran.yaml:1: topic: missing field",
        "facts/iran.yaml:1: questions: missing field",
    ]


def test_too_few_phrasings(sources_text: str, iran_fact: dict[str, Any]) -> None:
    iran_fact["questions"]["ru"] = iran_fact["questions"]["ru"][:1]
    text = dump([iran_fact])
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert problems == [
        f"facts/iran.yaml:{line_of(text, '  questions:') + 1}: questions.ru: needs at least 2"
        " phrasings"
    ]


def test_answer_over_the_limit(sources_text: str, iran_fact: dict[str, Any]) -> None:
    iran_fact["answer"]["en"] = "x" * (ANSWER_LIMIT + 1)
    text = dump([iran_fact])
    answer = line_of(text, "  answer:") + 1
    assert text.splitlines()[answer - 1].startswith("    en:")
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert problems == [
        f"facts/iran.yaml:{answer}: answer.en: {ANSWER_LIMIT + 1} characters, over the"
        f" {ANSWER_LIMIT} limit"
    ]


def test_answer_at_the_limit_is_accepted(sources_text: str, iran_fact: dict[str, Any]) -> None:
    iran_fact["answer"]["ru"] = "я" * ANSWER_LIMIT
    base = parse_knowledge({"sources.yaml": sources_text, "facts/iran.yaml": dump([iran_fact])})
    assert base.facts[0].answer["ru"] == "я" * ANSWER_LIMIT


def test_fact_with_no_source(sources_text: str, iran_fact: dict[str, Any]) -> None:
    iran_fact["sources"] = []
    text = dump([iran_fact])
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert (
        problems[0] == f"facts/iran.yaml:{line_of(text, '  sources: []')}: sources: missing field"
    )


def test_fact_with_no_evidence(sources_text: str, iran_fact: dict[str, Any]) -> None:
    iran_fact["evidence"] = []
    text = dump([iran_fact])
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert problems == [
        f"facts/iran.yaml:{line_of(text, '  evidence: []')}: evidence: missing field"
    ]


def test_quote_over_the_word_limit(sources_text: str, iran_fact: dict[str, Any]) -> None:
    iran_fact["evidence"][0]["quote"] = " ".join(["word"] * (QUOTE_WORD_LIMIT + 1))
    text = dump([iran_fact])
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert problems == [
        f"facts/iran.yaml:{line_of(text, '  - source:')}: evidence[1].quote:"
        f" {QUOTE_WORD_LIMIT + 1} words, over the {QUOTE_WORD_LIMIT}-word limit"
    ]


def test_quote_not_in_the_article_names_fact_and_closest_passage(
    sources_text: str, iran_fact: dict[str, Any], texts: SourceTexts
) -> None:
    # One word changed: the article says "ten days", not "nine days".
    iran_fact["evidence"][0]["quote"] = (
        "On March 12 and 13, just nine days after his state visit to China"
    )
    text = dump([iran_fact])
    files = {"sources.yaml": sources_text, "facts/iran.yaml": text}
    problems = problems_of(files, texts)
    assert len(problems) == 1
    prefix = (
        f"facts/iran.yaml:{line_of(text, '  - source:')}: evidence[1].quote:"
        f" fact '{IRAN_FACT}': does not occur in {IRAN_SOURCE}; closest passage: «"
    )
    assert problems[0].startswith(prefix)
    closest = problems[0].removeprefix(prefix).removesuffix("»")
    assert "On March 12 and 13, just ten days after his state visit to China" in closest
    # Without the article texts at hand the quote cannot be checked, so the file passes.
    assert parse_knowledge(files).facts[0].id == IRAN_FACT


def test_quote_differing_only_in_whitespace_occurs(
    sources_text: str, iran_fact: dict[str, Any], texts: SourceTexts
) -> None:
    iran_fact["evidence"][0]["quote"] = "On March 12 and 13,\n   just ten  days after\this state"
    base = parse_knowledge(
        {"sources.yaml": sources_text, "facts/iran.yaml": dump([iran_fact])}, texts
    )
    assert base.facts[0].id == IRAN_FACT


def test_quote_with_a_straight_quote_for_a_curly_one_fails(
    sources_text: str, knowledge_base: KnowledgeBase, texts: SourceTexts
) -> None:
    fact = next(
        f for f in knowledge_base.facts if any("“" in e.quote for e in f.evidence)
    ).to_dict()
    item = next(e for e in fact["evidence"] if "“" in e["quote"])
    item["quote"] = item["quote"].replace("“", '"').replace("”", '"')
    name = f"facts/{fact['country']}.yaml"
    problems = problems_of({"sources.yaml": sources_text, name: dump([fact])}, texts)
    assert len(problems) == 1
    assert f"fact '{fact['id']}': does not occur in {item['source']}" in problems[0]


def test_country_filed_in_the_wrong_file(sources_text: str, iran_fact: dict[str, Any]) -> None:
    text = dump([iran_fact])
    problems = problems_of({"sources.yaml": sources_text, "facts/azerbaijan.yaml": text})
    assert problems == [
        f"facts/azerbaijan.yaml:{line_of(text, '  country:')}: country: 'iran' fact filed in"
        " facts/azerbaijan.yaml"
    ]


def test_a_theme_file_may_hold_any_country(sources_text: str, iran_fact: dict[str, Any]) -> None:
    base = parse_knowledge({"sources.yaml": sources_text, "facts/visits.yaml": dump([iran_fact])})
    assert [f.id for f in base.facts] == [IRAN_FACT]


def test_every_problem_is_reported_at_once(
    sources_text: str, iran_fact: dict[str, Any], knowledge_base: KnowledgeBase
) -> None:
    other = next(f for f in knowledge_base.facts if f.country == "iran" and f.id != IRAN_FACT)
    broken_other = copy.deepcopy(other.to_dict())
    broken_other["country"] = "mars"
    iran_fact["date"] = "2023-13"
    text = dump([iran_fact, broken_other])
    problems = problems_of({"sources.yaml": sources_text, "facts/iran.yaml": text})
    assert problems == [
        f"facts/iran.yaml:{line_of(text, '  date:')}: date: must be YYYY, YYYY-MM, YYYY-MM-DD"
        " or START/END of those",
        f"facts/iran.yaml:{line_of(text, '  country: mars')}: country: must be one of"
        " azerbaijan, iran, belarus",
    ]


def test_no_fact_files(sources_text: str) -> None:
    assert problems_of({"sources.yaml": sources_text}) == [
        "facts:0: no fact files (facts/<country>.yaml)"
    ]


def test_single_fact_validation_names_field_and_rule(iran_fact: dict[str, Any]) -> None:
    iran_fact["evidence"].append({"source": IRAN_SOURCE, "quote": "  "})
    iran_fact["keywords"] = "visit"
    errors = validate_fact_data(iran_fact, [IRAN_SOURCE])
    assert errors == [
        ("keywords", "must be a list of words"),
        ("evidence[2].quote", "empty quote"),
    ]
    assert validate_fact_data({**iran_fact, "colour": "red"}, [IRAN_SOURCE])[0] == (
        "colour",
        "unknown field (allowed: id, country, topic, date, timeline, answer, questions, keywords,"
        " aliases, sources, evidence, retired)",
    )
