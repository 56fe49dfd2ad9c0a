"""The weekly digest as a pure function of the fact base, its recent history and the query log.

Composition is kept apart from fetching and sending so that the same inputs always give the same
digest: a preview shows exactly what will go out, a resumed broadcast sends what was stored
rather than a recomposition, and the content rules are tested without a database or Telegram.

Which facts appear:
- every live fact added or changed in the seven days before `now`, each with its citation;
- when those are fewer than three, "from the archive" facts up to three, picked by a rotation
  that orders the remaining live facts by a stable hash of (ISO week, fact id) and skips every
  fact featured in the last eight digests, so the choice is reproducible and never repeats;
- "most asked this week": the three facts most often given as answers (counts from query_log).

A digest is a list of Telegram messages ("parts") per language, each at most 4,096 UTF-16 code
units of raw HTML (Telegram measures the text after parsing, which is never longer), split only
between facts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.domain.answers import Composer, Format
from bot.domain.models import LANGUAGES, Fact

MESSAGE_LIMIT = 4096
WINDOW = dt.timedelta(days=7)
ARCHIVE_MINIMUM = 3
MOST_ASKED = 3
ROTATION_MEMORY = 8
# Room kept beside one fact for the section heading glued to it.
_HEADING_ROOM = 300
_TITLE_LIMIT = 300

ChangeKind = Literal["added", "changed"]

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Belarus Ties — weekly digest",
        "week": "Week {week} of {year}",
        "new": "🆕 New and updated this week",
        "nothing_new": "No facts were added or changed this week.",
        "archive": "📚 From the archive",
        "most_asked": "🔥 Most asked this week",
        "updated": "updated",
        "closing": "Ask me anything about Belarus's relations with Azerbaijan and Iran: just send"
        " your question to the bot in a private chat. To stop this weekly digest, send"
        " /unsubscribe.",
    },
    "ru": {
        "title": "Беларусь и её партнёры — дайджест недели",
        "week": "Неделя {week}, {year}",
        "new": "🆕 Новое и обновлённое за неделю",
        "nothing_new": "На этой неделе факты не добавлялись и не менялись.",
        "archive": "📚 Из архива",
        "most_asked": "🔥 Чаще всего спрашивали",
        "updated": "обновлено",
        "closing": "Спросите об отношениях Беларуси с Азербайджаном и Ираном: просто напишите"
        " вопрос боту в личном чате. Чтобы не получать этот дайджест, отправьте /unsubscribe.",
    },
}


def week_id(moment: dt.datetime) -> str:
    """The ISO week a moment falls in, in its own time zone: the digest's identity ("2026-W48")."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji may count twice."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Digest:
    """One week's digest: what it features and the messages that carry it, per language.

    `featured` (new and archive facts, not the "most asked" list) is what the rotation of the
    following eight digests avoids. `html` holds the messages to send; `text` the same content
    as plain text for previews and logs.
    """

    id: str
    featured: tuple[str, ...]
    new: tuple[str, ...]
    archive: tuple[str, ...]
    most_asked: tuple[str, ...]
    html: Mapping[str, tuple[str, ...]]
    text: Mapping[str, tuple[str, ...]]

    @property
    def empty(self) -> bool:
        """Nothing to tell: no fact to feature and nobody asked (e.g. an empty fact base)."""
        return not self.featured and not self.most_asked

    def parts(self, lang: str, fmt: Format = "html") -> tuple[str, ...]:
        """The messages of one edition; an unknown language gets the English edition."""
        editions = self.html if fmt == "html" else self.text
        return editions.get(lang) or editions["en"]

    @property
    def parts_by_lang(self) -> dict[str, tuple[str, ...]]:
        """The HTML messages per language, as `broadcast()` takes them."""
        return dict(self.html)

    def to_json(self) -> str:
        """The stored form (digests.content): a resumed broadcast sends exactly this."""
        return json.dumps(
            {
                "id": self.id,
                "featured": list(self.featured),
                "new": list(self.new),
                "archive": list(self.archive),
                "most_asked": list(self.most_asked),
                "html": {k: list(v) for k, v in self.html.items()},
                "text": {k: list(v) for k, v in self.text.items()},
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, content: str) -> Digest:
        data = json.loads(content)
        return cls(
            id=str(data["id"]),
            featured=tuple(data["featured"]),
            new=tuple(data["new"]),
            archive=tuple(data["archive"]),
            most_asked=tuple(data["most_asked"]),
            html={str(k): tuple(v) for k, v in data["html"].items()},
            text={str(k): tuple(v) for k, v in data["text"].items()},
        )


def rotation_key(week: str, fact_id: str) -> str:
    """A stable pseudo-random order per week, the same on every machine and every run."""
    return hashlib.sha256(f"{week}|{fact_id}".encode()).hexdigest()


def most_asked(answered_counts: Mapping[str, int], live: Iterable[str]) -> list[str]:
    """The three live facts given most often as answers; ties go to the smaller id."""
    alive = set(live)
    ranked = sorted(
        ((-n, fact_id) for fact_id, n in answered_counts.items() if n > 0 and fact_id in alive)
    )
    return [fact_id for _, fact_id in ranked[:MOST_ASKED]]


def archive_picks(
    week: str, candidates: Iterable[str], recent_featured: Sequence[Sequence[str]], count: int
) -> list[str]:
    """Up to `count` facts by the week's rotation, none featured in the last eight digests.

    When the fact base is too small to fill the quota without a repeat, fewer are picked:
    a repeat is what the rule forbids, a shorter archive section is not.
    """
    if count <= 0:
        return []
    seen = {fact_id for ids in recent_featured[:ROTATION_MEMORY] for fact_id in ids}
    fresh = sorted(
        (f for f in set(candidates) if f not in seen), key=lambda f: rotation_key(week, f)
    )
    return fresh[:count]


def compose_digest(
    facts: Iterable[Fact],
    changed: Mapping[str, ChangeKind],
    answered_counts: Mapping[str, int],
    recent_featured: Sequence[Sequence[str]],
    now: dt.datetime,
    composer: Composer,
    langs: Sequence[str] = LANGUAGES,
) -> Digest:
    """The digest for the ISO week of `now`, in every language of `langs`.

    `changed` maps the ids of facts added or changed in the seven days before `now` to
    "added" or "changed" (Store.changed_facts); `answered_counts` counts how often each fact
    was given as an answer in that window (Store.answered_counts); `recent_featured` lists the
    featured ids of the previous digests, most recent first (Store.recent_featured). `now` must
    be time-zone aware: the week is the one in the digest's time zone.
    """
    if now.tzinfo is None:
        raise ValueError("compose_digest needs an aware datetime (the digest's time zone)")
    live = {f.id: f for f in facts if not f.retired}
    week = week_id(now)
    new = sorted(
        (live[i] for i in changed if i in live), key=lambda f: (-f.starts.toordinal(), f.id)
    )
    asked = most_asked(answered_counts, live)
    new_ids = {f.id for f in new}
    candidates = (i for i in live if i not in new_ids and i not in asked)
    archive = [
        live[i]
        for i in archive_picks(week, candidates, recent_featured, ARCHIVE_MINIMUM - len(new))
    ]

    def edition(lang: str, fmt: Format) -> tuple[str, ...]:
        units = _units(
            week, new, changed, archive, asked, live, answered_counts, lang, fmt, composer
        )
        return tuple(pack(units))

    html_parts = {lang: edition(lang, "html") for lang in langs}
    text_parts = {lang: edition(lang, "text") for lang in langs}
    return Digest(
        id=week,
        featured=tuple(f.id for f in new) + tuple(f.id for f in archive),
        new=tuple(f.id for f in new),
        archive=tuple(f.id for f in archive),
        most_asked=tuple(asked),
        html=html_parts,
        text=text_parts,
    )


def pack(units: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Greedy packing of whole units into messages of at most `limit` UTF-16 code units.

    A unit is never split, so every message break falls between facts; the caller keeps each
    unit within the limit.
    """
    parts: list[str] = []
    current = ""
    for unit in units:
        if utf16_len(unit) > limit:
            raise ValueError(f"a digest unit of {utf16_len(unit)} characters cannot be sent")
        joined = f"{current}\n\n{unit}" if current else unit
        if utf16_len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = unit
    if current:
        parts.append(current)
    return parts


def _esc(text: str, fmt: Format) -> str:
    return html.escape(text, quote=False) if fmt == "html" else text


def _bold(text: str, fmt: Format) -> str:
    return f"<b>{_esc(text, fmt)}</b>" if fmt == "html" else text


def _italic(text: str, fmt: Format) -> str:
    return f"<i>{_esc(text, fmt)}</i>" if fmt == "html" else text


def _title(fact: Fact, lang: str) -> str:
    questions = fact.questions_in(lang)
    title = questions[0] if questions else fact.id
    return title if len(title) <= _TITLE_LIMIT else title[: _TITLE_LIMIT - 1] + "…"


def _units(
    week: str,
    new: Sequence[Fact],
    changed: Mapping[str, ChangeKind],
    archive: Sequence[Fact],
    asked: Sequence[str],
    live: Mapping[str, Fact],
    counts: Mapping[str, int],
    lang: str,
    fmt: Format,
    composer: Composer,
) -> list[str]:
    """The digest as indivisible units: a section heading travels with its first fact."""
    t = TEXTS.get(lang, TEXTS["en"])
    year, number = week.split("-W")
    subtitle = t["week"].format(week=int(number), year=year)
    header = f"📰 {_bold(t['title'], fmt)}\n{_italic(subtitle, fmt)}"
    units: list[str] = []

    def section(heading: str, blocks: list[str]) -> None:
        head = _bold(heading, fmt)
        if not blocks:
            return
        units.append(f"{head}\n\n{blocks[0]}")
        units.extend(blocks[1:])

    budget = MESSAGE_LIMIT - _HEADING_ROOM
    if new:
        blocks = [
            fact_block(f, lang, fmt, composer, budget, updated=changed.get(f.id) == "changed")
            for f in new
        ]
        section(t["new"], blocks)
    else:
        units.append(f"{_bold(t['new'], fmt)}\n{_esc(t['nothing_new'], fmt)}")
    section(t["archive"], [fact_block(f, lang, fmt, composer, budget) for f in archive])
    if asked:
        lines = [
            f"{i}. {_esc(_title(live[fact_id], lang), fmt)} — {counts[fact_id]}×"
            for i, fact_id in enumerate(asked, 1)
        ]
        units.append(f"{_bold(t['most_asked'], fmt)}\n" + "\n".join(lines))
    units.append(_esc(t["closing"], fmt))
    units[0] = f"{header}\n\n{units[0]}"
    return units


def fact_block(
    fact: Fact,
    lang: str,
    fmt: Format,
    composer: Composer,
    budget: int = MESSAGE_LIMIT - _HEADING_ROOM,
    updated: bool = False,
) -> str:
    """A fact as the digest shows it: its first question as a title, the answer, the citation.

    A fact too long for one message (it cannot happen with the 350-character answer limit, but
    the digest must never fail to go out) loses the end of its answer, then its extra sources,
    rather than being cut through its HTML.
    """
    t = TEXTS.get(lang, TEXTS["en"])
    title = _bold(_title(fact, lang), fmt)
    if updated:
        title += f" {_italic('(' + t['updated'] + ')', fmt)}"
    block = f"{title}\n{composer.answer(fact, lang, fmt)}"
    if utf16_len(block) <= budget:
        return block
    answer = fact.answer_in(lang)
    sources = fact.sources

    def shortened(length: int) -> str:
        text = answer[:length].rstrip()
        text = f"{text}…" if text else ""
        shorter = fact.with_changes(answer={lang: text, "en": text}, sources=sources)
        return f"{title}\n{composer.answer(shorter, lang, fmt)}"

    while utf16_len(shortened(0)) > budget:
        if len(sources) <= 1:
            return title
        sources = sources[:-1]
    # The longest beginning of the answer that still fits; escaping makes it no simple sum.
    low, high = 0, len(answer)
    while low < high:
        middle = (low + high + 1) // 2
        if utf16_len(shortened(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return shortened(low)


__all__ = [
    "MESSAGE_LIMIT",
    "TEXTS",
    "Digest",
    "archive_picks",
    "compose_digest",
    "fact_block",
    "most_asked",
    "pack",
    "rotation_key",
    "week_id",
]
