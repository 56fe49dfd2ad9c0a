"""The digest's content rules, on synthetic facts: no database, no Telegram."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.answers import Composer, Format
from bot.domain.digest import (
    MESSAGE_LIMIT,
    ChangeKind,
    Digest,
    compose_digest,
    fact_block,
    pack,
    utf16_len,
    week_id,
)
from bot.domain.models import Fact, Source

MINSK = ZoneInfo("Europe/Minsk")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=MINSK)  # a Monday in ISO week 2026-W48
SOURCE = Source(
    id="src-a",
    title="Minsk & Baku <2024>",
    outlet="Outlet A",
    author="Author",
    published="2024-05-02",
    url="https://example.org/a?x=1&y=2",
)
COMPOSER = Composer({SOURCE.id: SOURCE})
ALLOWED_TAGS = {"b", "i", "a", "blockquote"}


def make_fact(
    fact_id: str,
    answer: str | None = None,
    question: str | None = None,
    date: str = "2024-05",
    retired: bool = False,
) -> Fact:
    return Fact(
        id=fact_id,
        country="belarus",
        topic="diplomacy",
        date=date,
        answer={"en": answer or f"Answer about {fact_id}.", "ru": f"Ответ про {fact_id}."},
        questions={"en": (question or f"What about {fact_id}?",), "ru": (f"Что с {fact_id}?",)},
        keywords=(),
        aliases=(),
        sources=(SOURCE.id,),
        evidence=(),
        retired=retired,
    )


def facts(count: int) -> list[Fact]:
    return [make_fact(f"fact-{i:03d}") for i in range(count)]


def compose(
    base: Sequence[Fact],
    changed: dict[str, ChangeKind] | None = None,
    counts: dict[str, int] | None = None,
    recent: Sequence[Sequence[str]] = (),
    now: dt.datetime = NOW,
) -> Digest:
    return compose_digest(base, changed or {}, counts or {}, recent, now, COMPOSER)


def test_a_digest_is_named_by_the_iso_week_of_its_time_zone() -> None:
    assert week_id(NOW) == "2026-W48"
    assert week_id(dt.datetime(2027, 1, 1, 12, tzinfo=MINSK)) == "2026-W53"
    # Sunday 23:30 in UTC is already Monday in Minsk: the digest's zone decides.
    sunday_utc = dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC)
    assert week_id(sunday_utc) == "2026-W48"
    assert week_id(sunday_utc.astimezone(MINSK)) == "2026-W49"
    assert compose(facts(5)).id == "2026-W48"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        compose(facts(3), now=NOW.replace(tzinfo=None))


def test_new_and_changed_facts_are_listed_with_their_citations() -> None:
    base = [*facts(6), make_fact("fresh", date="2025-01"), make_fact("edited", date="2023")]
    digest = compose(base, {"fresh": "added", "edited": "changed"})

    assert digest.new == ("fresh", "edited")  # newest event first
    html = "\n\n".join(digest.parts("en"))
    citation = COMPOSER.citation(SOURCE, "en", "html")
    for fact in base[-2:]:
        block = fact_block(fact, "en", "html", COMPOSER, updated=fact.id == "edited")
        assert block in html
        assert block.endswith(citation)
    assert "What about edited?</b> <i>(updated)</i>" in html
    assert "What about fresh?</b>\n" in html
    text = "\n\n".join(digest.parts("en", "text"))
    assert COMPOSER.answer(make_fact("fresh"), "en") in text
    assert COMPOSER.answer(make_fact("edited"), "en") in text


def test_three_new_facts_leave_no_room_for_the_archive() -> None:
    base = facts(10)
    digest = compose(base, {f.id: "added" for f in base[:3]})
    assert digest.archive == ()
    assert digest.featured == digest.new
    assert "From the archive" not in "".join(digest.parts("en"))


@pytest.mark.parametrize("new_count", [0, 1, 2])
def test_fewer_than_three_new_facts_are_topped_up_from_the_archive(new_count: int) -> None:
    base = facts(10)
    digest = compose(base, {f.id: "changed" for f in base[:new_count]})
    assert len(digest.new) == new_count
    assert len(digest.archive) == 3 - new_count
    assert not set(digest.archive) & set(digest.new)
    assert digest.featured == digest.new + digest.archive
    html = "".join(digest.parts("en"))
    assert "<b>📚 From the archive</b>" in html
    for fact_id in digest.archive:
        assert f"What about {fact_id}?" in html
    if new_count == 0:
        assert "No facts were added or changed this week." in html


def test_the_rotation_is_deterministic_and_independent_of_input_order() -> None:
    base = facts(40)
    first = compose(base)
    shuffled = base[:]
    random.Random(7).shuffle(shuffled)
    again = compose(shuffled)
    assert first == again
    next_week = compose(base, now=NOW + dt.timedelta(days=7))
    assert next_week.archive != first.archive


def test_the_rotation_never_repeats_a_fact_of_the_last_eight_digests() -> None:
    base = facts(40)
    history: list[tuple[str, ...]] = []  # newest first, as Store.recent_featured gives it
    for week in range(52):
        digest = compose(base, recent=history, now=NOW + dt.timedelta(weeks=week))
        assert len(digest.archive) == 3
        assert not set(digest.archive) & {i for ids in history[:8] for i in ids}
        history.insert(0, digest.featured)
    # Over a year the rotation reaches the whole base, not just a favoured few.
    assert {i for ids in history for i in ids} == {f.id for f in base}


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=30),
    new=st.integers(min_value=0, max_value=4),
    history=st.lists(st.lists(st.integers(min_value=0, max_value=40), max_size=4), max_size=12),
    week=st.integers(min_value=0, max_value=200),
)
def test_archive_picks_avoid_recent_digests_for_any_history(
    size: int, new: int, history: list[list[int]], week: int
) -> None:
    base = facts(size)
    recent = [[f"fact-{i:03d}" for i in ids] for ids in history]
    changed: dict[str, ChangeKind] = {f.id: "added" for f in base[:new]}
    now = NOW + dt.timedelta(weeks=week)
    digest = compose(base, changed, recent=recent, now=now)
    banned = {i for ids in recent[:8] for i in ids}
    available = {f.id for f in base} - banned - set(digest.new)
    assert not set(digest.archive) & banned
    assert len(digest.archive) == min(max(0, 3 - len(digest.new)), len(available))
    assert compose(base, changed, recent=recent, now=now) == digest


def test_most_asked_is_the_top_three_answered_facts() -> None:
    base = [*facts(6), make_fact("gone", retired=True)]
    counts = {"fact-000": 5, "fact-001": 9, "fact-002": 1, "fact-003": 5, "fact-004": 0}
    counts["gone"] = 100  # retired facts are not advertised
    counts["unknown-id"] = 50
    digest = compose(base, counts=counts)
    assert digest.most_asked == ("fact-001", "fact-000", "fact-003")  # ties: smaller id
    html = "".join(digest.parts("en"))
    section = html[html.index("Most asked this week") :]
    assert "1. What about fact-001? — 9×" in section
    assert "2. What about fact-000? — 5×" in section
    assert "3. What about fact-003? — 5×" in section
    assert set(digest.archive).isdisjoint(digest.most_asked)


def test_retired_facts_never_appear() -> None:
    base = [*facts(3), make_fact("old", retired=True)]
    digest = compose(base, {"old": "changed"}, {"old": 3})
    assert "old" not in digest.featured + digest.most_asked
    assert "What about old?" not in "".join(digest.parts("en"))


def test_every_message_ends_with_how_to_ask_and_unsubscribe_in_both_editions() -> None:
    digest = compose(facts(5))
    assert digest.parts("en")[-1].endswith("To stop this weekly digest, send /unsubscribe.")
    assert digest.parts("ru")[-1].endswith("отправьте /unsubscribe.")
    assert "private chat" in digest.parts("en", "text")[-1]


def test_english_and_russian_editions() -> None:
    base = facts(5)
    digest = compose(base, {"fact-001": "changed"}, {"fact-002": 2})
    en, ru = "".join(digest.parts("en")), "".join(digest.parts("ru"))
    assert "weekly digest" in en
    assert "Answer about fact-001." in en
    for expected in ("дайджест недели", "Ответ про fact-001.", "Чаще всего спрашивали"):
        assert expected in ru
    for expected in ("Что с fact-002?", "По состоянию на", "(обновлено)"):
        assert expected in ru
    assert "Answer about" not in ru
    # A chat whose language has no edition reads the English one.
    assert digest.parts("de") == digest.parts("en")
    assert set(digest.html) == set(digest.text) == {"en", "ru"}


def test_fact_fields_are_html_escaped() -> None:
    nasty = make_fact(
        "nasty",
        answer="Trade < 1 bn & rising > 5% <script>alert(1)</script>",
        question="Is <b>this</b> & that > those?",
    )
    digest = compose([nasty, *facts(3)], {"nasty": "added"})
    html = "".join(digest.parts("en"))
    assert "Trade &lt; 1 bn &amp; rising &gt; 5% &lt;script&gt;" in html
    assert "Is &lt;b&gt;this&lt;/b&gt; &amp; that &gt; those?" in html
    assert "Minsk &amp; Baku &lt;2024&gt;" in html
    assert 'href="https://example.org/a?x=1&amp;y=2"' in html
    assert "<script>" not in html
    tags = {t.lower() for t in re.findall(r"</?([a-zA-Z]+)", html)}
    assert tags <= ALLOWED_TAGS
    # Plain text is not HTML: nothing to escape there.
    text = "".join(digest.parts("en", "text"))
    assert "Trade < 1 bn & rising > 5% <script>" in text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_large_digest_splits_at_fact_boundaries_within_4096(lang: str) -> None:
    long_answer = "Belarus & Iran <trade> " * 15  # 345 characters, longer once escaped
    base = [make_fact(f"big-{i:03d}", answer=long_answer) for i in range(150)]
    digest = compose(base, {f.id: "added" for f in base}, {"big-007": 4})
    formats: tuple[Format, ...] = ("html", "text")
    for fmt in formats:
        parts = digest.parts(lang, fmt)
        assert len(parts) > 5
        assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
        # Every fact, title to citation, sits whole inside a single message, in order.
        whole = "\n\n".join(parts)
        position = 0
        for fact in base:
            block = fact_block(fact, lang, fmt, COMPOSER)
            assert sum(block in p for p in parts) == 1
            position = whole.index(block, position)
        # A heading never ends a message: it travels with its first fact.
        for part in parts:
            last_line = part.rsplit("\n", 1)[-1]
            assert "New and updated" not in last_line
            assert "Новое" not in last_line
        assert parts[-1].endswith("/unsubscribe.")
    assert len(digest.featured) == 150
    assert digest.archive == ()


def test_packing_counts_utf16_and_breaks_only_between_units() -> None:
    assert pack(["a" * 3000, "b" * 1000, "c" * 100]) == [
        "a" * 3000 + "\n\n" + "b" * 1000,
        "c" * 100,
    ]
    exact = ["x" * 2047, "y" * 2047]  # 2047 + 2 + 2047 = 4096: still one message
    assert pack(exact) == ["\n\n".join(exact)]
    emoji = "📄" * 2048  # 4,096 UTF-16 code units, 2,048 Python characters
    assert pack([emoji, "z"]) == [emoji, "z"]
    with pytest.raises(ValueError, match="cannot be sent"):
        pack(["📄" * 2049])


def test_an_oversized_fact_is_shortened_not_cut_through_its_html() -> None:
    giant = make_fact("giant", answer="& " * 5000)
    block = fact_block(giant, "en", "html", COMPOSER)
    assert utf16_len(block) <= MESSAGE_LIMIT
    assert block.endswith(COMPOSER.citation(SOURCE, "en", "html"))
    assert "…" in block
    assert re.search(r"&(?!amp;|lt;|gt;|quot;)", block) is None
    digest = compose([giant, *facts(2)], {"giant": "added"})
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in digest.parts("en"))


def test_the_stored_form_round_trips() -> None:
    digest = compose(facts(8), {"fact-001": "added"}, {"fact-002": 1})
    assert Digest.from_json(digest.to_json()) == digest
    assert digest.parts_by_lang == {"en": digest.html["en"], "ru": digest.html["ru"]}


def test_an_empty_fact_base_gives_an_empty_digest() -> None:
    digest = compose([])
    assert digest.empty
    assert not compose(facts(1)).empty
