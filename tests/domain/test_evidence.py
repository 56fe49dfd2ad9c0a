"""Every answer rests on the article's own words, and says nothing its quotes do not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.evidence import SourceTexts, collapse, readable
from bot.domain.knowledge import KnowledgeBase

_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "sources"
_COPIES = Path(__file__).resolve().parents[2] / "knowledge" / "articles"
ARTICLES = _SHARED if _SHARED.is_dir() else _COPIES

FIGURE = re.compile(r"\d+(?:[.,]\d+)?")
# "2002–12" in an article means 2002 to 2012.
SHORT_RANGE = re.compile(r"\b(\d{2})(\d{2})[-‐‑–](\d{2})\b")


def figures(text: str) -> set[str]:
    """The figures a text states, short year ranges read in full."""
    text = SHORT_RANGE.sub(lambda m: f"{m[0]} {m[1]}{m[3]}", text)
    return set(FIGURE.findall(text))


def _normalised(figure: str) -> str:
    """A date's "05" and an answer's "5" are the same figure."""
    return figure.lstrip("0") or "0"


def article(source_id: str) -> str:
    return collapse((ARTICLES / f"{source_id}.txt").read_text(encoding="utf-8"))


def test_figures_helper_reads_short_ranges() -> None:
    assert figures("In 2002–12, Baku purchased 153 T-72 tanks") == {
        "2002",
        "12",
        "2012",
        "153",
        "72",
    }
    assert figures("$885.5 million") == {"885.5"}


def test_there_is_an_article_for_every_source(knowledge_base: KnowledgeBase) -> None:
    for source in knowledge_base.sources:
        assert (ARTICLES / f"{source.id}.txt").is_file(), source.id


def test_every_quote_occurs_verbatim_in_its_article(knowledge_base: KnowledgeBase) -> None:
    missing = []
    quotes = 0
    for fact in knowledge_base.facts:
        assert fact.evidence, f"{fact.id} has no evidence"
        for item in fact.evidence:
            quotes += 1
            assert item.source in fact.sources, (fact.id, item.source)
            if collapse(item.quote) not in article(item.source):
                missing.append(f"{fact.id}: {item.quote!r} not in {item.source}")
    assert missing == []
    assert quotes >= len(knowledge_base.facts)


def test_every_figure_of_an_answer_is_in_a_quote_or_the_publication_date(
    knowledge_base: KnowledgeBase,
) -> None:
    published = {s.id: s.published for s in knowledge_base.sources}
    unsupported = []
    for fact in knowledge_base.facts:
        found: set[str] = set()
        for item in fact.evidence:
            found |= {_normalised(f) for f in figures(item.quote)}
        for source_id in fact.sources:
            found |= {_normalised(f) for f in figures(published[source_id])}
        for figure in sorted(figures(fact.answer["en"])):
            if _normalised(figure) not in found:
                unsupported.append(f"{fact.id}: {figure}")
    assert unsupported == []


def test_source_texts_check_finds_a_quote_across_line_breaks() -> None:
    texts = SourceTexts({"a": "Baku purchased from Belarus\n153   T-72 tanks, 120 howitzers."})
    assert texts.knows("a")
    assert not texts.knows("b")
    found = texts.check("a", "Belarus 153 T-72\ntanks")
    assert found.ok
    assert found.closest == "Belarus 153 T-72 tanks"


def test_source_texts_check_refuses_anything_but_whitespace_differences() -> None:
    texts = SourceTexts({"a": "Lukashenka said: “We go where doors are open for us”."})
    assert texts.check("a", "“We go where doors are open for us”").ok
    straight = texts.check("a", '"We go where doors are open for us"')
    assert not straight.ok
    assert "We go where doors are open for us" in straight.closest
    assert not texts.check("a", "we go where doors are open for us").ok
    assert not texts.check("a", "   ").ok


def test_source_texts_from_a_missing_folder_know_nothing(tmp_path: Path) -> None:
    assert not SourceTexts.from_dir(tmp_path / "absent").knows("mdc-2023-belarus-iran")
    assert not SourceTexts.from_dir(None).knows("mdc-2023-belarus-iran")


def test_source_texts_from_dir_reads_every_article() -> None:
    texts = SourceTexts.from_dir(ARTICLES)
    for path in ARTICLES.glob("*.txt"):
        assert texts.knows(path.stem)


def test_readable_drops_link_markers_and_escapes() -> None:
    assert readable("the [agreements](#) reached, \\$100 million") == (
        "the agreements reached, $100 million"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in _COPIES.glob("*.txt")))
def test_the_copies_in_knowledge_match_the_shared_articles(name: str) -> None:
    if not _SHARED.is_dir():
        pytest.skip("../shared/sources is not beside this repository")
    assert (_COPIES / name).read_bytes() == (_SHARED / name).read_bytes()
