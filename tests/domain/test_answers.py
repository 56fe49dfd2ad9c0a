"""The composer: a dated answer that ends with its citation, safely escaped for Telegram HTML."""

from __future__ import annotations

import re

import pytest

from bot.domain.answers import Composer, human_date
from bot.domain.knowledge import KnowledgeBase
from bot.domain.models import Evidence, Fact, Source

NASTY = "Tanks <b>&</b> > guns & <script>alert(1)</script>"
URL = "https://example.org/a?x=1&y=<2>"

# Tags the composer itself writes; anything else in HTML output must be escaped text.
_OWN_TAGS = re.compile(r'</?(?:i|b|blockquote)>|<a href="[^"<>]*">|</a>')
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#x27);")


def nasty_source(**changes: str | None) -> Source:
    fields: dict[str, str | None] = {
        "id": "nasty",
        "title": f"Title {NASTY}",
        "outlet": f"Outlet {NASTY}",
        "author": "Someone",
        "published": "2023-03-30",
        "url": URL,
    }
    fields.update(changes)
    return Source(
        id=str(fields["id"]),
        title=str(fields["title"]),
        outlet=str(fields["outlet"]),
        author=str(fields["author"]),
        published=str(fields["published"]),
        url=fields["url"],
    )


def nasty_fact(sources: tuple[str, ...] = ("nasty",)) -> Fact:
    return Fact(
        id="nasty-fact",
        country="iran",
        topic="trade",
        date="2022",
        answer={"en": f"Answer {NASTY}", "ru": f"Ответ {NASTY}"},
        questions={"en": ("a?", "b?", "c?"), "ru": ("а?", "б?")},
        keywords=("k",),
        aliases=(),
        sources=sources,
        evidence=(Evidence(source=sources[0], quote=f"Quote {NASTY}"),),
    )


def assert_safe_html(rendered: str) -> None:
    """Only the composer's own tags remain; every other <, > and & is an entity."""
    text = _OWN_TAGS.sub("", rendered)
    assert "<" not in text, text
    assert ">" not in text, text
    assert _ENTITY.sub("", text).count("&") == 0, text


@pytest.fixture(scope="module")
def composer(knowledge_base: KnowledgeBase) -> Composer:
    return Composer({s.id: s for s in knowledge_base.sources})


def fact(base: KnowledgeBase, fact_id: str) -> Fact:
    return next(f for f in base.facts if f.id == fact_id)


def test_answer_ends_with_its_citation(composer: Composer, knowledge_base: KnowledgeBase) -> None:
    visit = fact(knowledge_base, "az16-visit-baku-2016")
    source = composer.sources["bif-2016-azerbaijan-belarus"]
    text = composer.answer(visit, "en")
    assert text.startswith(visit.answer["en"])
    assert text.endswith(f"Source: {composer.citation(source, 'en')}")
    assert text.endswith(f"“{source.title}”, {source.outlet}, 5 December 2016, {source.url}"), (
        "title, outlet, date and address, in that order"
    )


def test_citation_without_an_address_ends_with_the_date(
    composer: Composer, knowledge_base: KnowledgeBase
) -> None:
    visit = fact(knowledge_base, "ir-visit-march-2023")
    source = composer.sources["mdc-2023-belarus-iran"]
    assert source.url is None
    text = composer.answer(visit, "en")
    assert text.endswith(f"“{source.title}”, {source.outlet}, 30 March 2023")
    assert "http" not in text


def test_answer_is_dated_by_its_source(composer: Composer, knowledge_base: KnowledgeBase) -> None:
    assert "\n\nAs of 5 December 2016. Source: " in composer.answer(
        fact(knowledge_base, "az16-visit-baku-2016"), "en"
    )
    # The 2024 article never prints more than its year.
    assert "\n\nAs of 2024. Source: " in composer.answer(
        fact(knowledge_base, "az-arms-t72-tanks"), "en"
    )


def test_as_of_is_the_newest_source() -> None:
    old = nasty_source(id="old", published="2016-12-05")
    new = nasty_source(id="new", published="2024")
    mid = nasty_source(id="mid", published="2023-03-30")
    composer = Composer({"old": old, "new": new, "mid": mid})
    both = nasty_fact(sources=("old", "mid"))
    assert composer.as_of(both) == "2023-03-30"
    assert composer.as_of(nasty_fact(sources=("old", "new", "mid"))) == "2024"
    text = composer.answer(both, "en")
    assert "As of 30 March 2023." in text
    assert text.endswith(f"{composer.citation(old, 'en')}; {composer.citation(mid, 'en')}"), (
        "every source cited, in the fact's order"
    )


def test_as_of_falls_back_to_the_fact_date_for_an_unknown_source() -> None:
    assert Composer({}).as_of(nasty_fact(sources=("gone",))) == "2022"


def test_russian_answer_has_russian_text_labels_and_dates(
    composer: Composer, knowledge_base: KnowledgeBase
) -> None:
    visit = fact(knowledge_base, "az16-visit-baku-2016")
    text = composer.answer(visit, "ru")
    assert text.startswith(visit.answer["ru"])
    assert "По состоянию на 5 декабря 2016." in text
    assert "Источник: “Azerbaijan and Belarus May Help Each Other to Survive”" in text
    assert "As of" not in text
    assert "Source:" not in text


def test_html_escapes_every_field_of_the_answer_and_citation() -> None:
    source = nasty_source()
    composer = Composer({"nasty": source})
    rendered = composer.answer(nasty_fact(), "en", "html")
    assert_safe_html(rendered)
    escaped = (
        "Tanks &lt;b&gt;&amp;&lt;/b&gt; &gt; guns &amp; &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert rendered.startswith(f"Answer {escaped}")
    assert f"<i>“Title {escaped}”</i>" in rendered
    assert f"Outlet {escaped}" in rendered
    assert '<a href="https://example.org/a?x=1&amp;y=&lt;2&gt;">' in rendered
    assert "<i>As of 30 March 2023.</i>" in rendered


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_html_escapes_the_evidence_view(lang: str) -> None:
    composer = Composer({"nasty": nasty_source()})
    rendered = composer.evidence(nasty_fact(), lang, "html")
    assert_safe_html(rendered)
    assert "<blockquote>Quote Tanks &lt;b&gt;&amp;" in rendered
    head = "📄 What the article says" if lang == "en" else "📄 Текст статьи"
    assert rendered.startswith(f"<b>{head}</b>")


def test_plain_text_is_not_escaped() -> None:
    composer = Composer({"nasty": nasty_source()})
    text = composer.answer(nasty_fact(), "en")
    assert text.startswith(f"Answer {NASTY}")
    assert f"“Title {NASTY}”, Outlet {NASTY}, 30 March 2023, {URL}" in text
    assert "&lt;" not in text
    assert "&amp;" not in text


def test_html_of_every_real_fact_is_safe(
    composer: Composer, knowledge_base: KnowledgeBase
) -> None:
    for item in knowledge_base.facts:
        for lang in ("en", "ru"):
            assert_safe_html(composer.answer(item, lang, "html"))
            assert_safe_html(composer.evidence(item, lang, "html"))


def test_evidence_view_quotes_the_article_with_citation_and_date(
    composer: Composer, knowledge_base: KnowledgeBase
) -> None:
    pieces = fact(knowledge_base, "ir-another-100-million")
    assert any("[agreements](#)" in e.quote for e in pieces.evidence)
    text = composer.evidence(pieces, "en")
    assert "the agreements reached" in text
    assert text.startswith("📄 What the article says\n\n«")
    assert "[agreements](#)" not in text, "link markers are dropped for readers"
    assert text.endswith("\n\nAs of 30 March 2023.")
    assert text.count("— “Belarus-Iran: Minsk Goes Where Doors Are Open”") == len(pieces.evidence)


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        ("2023-03-30", "en", "30 March 2023"),
        ("2023-03-30", "ru", "30 марта 2023"),
        ("2016-12-05", "en", "5 December 2016"),
        ("2023-03", "en", "March 2023"),
        ("2023-03", "ru", "март 2023"),
        ("2024", "en", "2024"),
        ("2024", "ru", "2024"),
    ],
)
def test_human_date(value: str, lang: str, expected: str) -> None:
    assert human_date(value, lang) == expected
