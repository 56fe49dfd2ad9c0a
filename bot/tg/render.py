"""Turns facts and matcher verdicts into Telegram messages: HTML text plus inline keyboards.

Everything Telegram would reject is settled here, once, instead of in each handler: text is
HTML-escaped by the Composer, long text is split below 4,096 visible characters on block
boundaries (so no tag is ever cut in half), callback data stays within 64 bytes (long fact ids
travel as a short hash) and a keyboard never has more than 100 buttons.

Callback data is a short `kind:arg:…` string; `parse` is its only reader:
    d:LANG:QUERY:REF   did-you-mean choice → edit the message into that answer
    r:LANG:REF         show a fact as a new message (related facts, topic browsing)
    e:LANG:REF         show the article's words under the answer
    f:QUERY:VOTE       👍 (1) / 👎 (-1) on a logged question
    t[:COUNTRY[:TOPIC:PAGE]]   browse countries → topics → facts
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.answers import human_date
from bot.domain.models import COUNTRIES, TOPICS, Fact
from bot.service import FactService, Reply
from bot.tg.commands import help_lines
from bot.tg.texts import texts

MAX_TEXT = 4096  # visible characters (UTF-16 code units) per message
MAX_CALLBACK_BYTES = 64
MAX_BUTTONS = 100
MAX_LABEL = 60
PAGE_SIZE = 8
RELATED = 3
_REF_LIMIT = 40  # longer fact ids travel as "~" + hash so callback data stays short
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Outgoing:
    """One message to send or to edit into place."""

    text: str
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Action:
    """A parsed button press."""

    kind: str
    lang: str = "en"
    query_id: int = 0
    ref: str = ""
    vote: int = 0
    country: str = ""
    topic: str = ""
    page: int = 0


class CallbackDataError(ValueError):
    """Callback data this version of the bot did not write (old buttons, forged data)."""


# -- limits ------------------------------------------------------------------------------


def visible_length(text: str) -> int:
    """What Telegram counts against 4,096: UTF-16 code units of the text after HTML parsing."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def split_blocks(blocks: Iterable[str], limit: int = MAX_TEXT, sep: str = "\n\n") -> list[str]:
    """Pack self-contained HTML blocks into as few messages as fit under the limit.

    A block is never cut unless it alone is too long; then it loses its markup and is cut
    between words, because half a tag would make Telegram reject the whole message.
    """
    messages: list[str] = []
    current: list[str] = []
    size = 0
    gap = visible_length(sep)
    for block in blocks:
        length = visible_length(block)
        if length > limit:
            if current:
                messages.append(sep.join(current))
                current, size = [], 0
            messages.extend(_cut_plain(html.unescape(_TAG.sub("", block)), limit))
            continue
        extra = length + (gap if current else 0)
        if current and size + extra > limit:
            messages.append(sep.join(current))
            current, size, extra = [], 0, length
        current.append(block)
        size += extra
    if current:
        messages.append(sep.join(current))
    return messages


def _cut_plain(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while text:
        cut = len(text)
        while visible_length(html.escape(text[:cut], quote=False)) > limit:
            space = text.rfind(" ", 0, cut - 1)
            cut = space if space > 0 else cut - max(1, (cut - limit) // 2)
        pieces.append(html.escape(text[:cut].strip(), quote=False))
        text = text[cut:].lstrip()
    return [p for p in pieces if p]


def label(text: str, limit: int = MAX_LABEL) -> str:
    """A button caption: one line, shortened with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def keyboard(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard, checked against Telegram's limits; None when there are no buttons."""
    kept = [list(row) for row in rows if row]
    count = sum(len(row) for row in kept)
    if count > MAX_BUTTONS:
        raise ValueError(f"{count} buttons; Telegram allows {MAX_BUTTONS}")
    for row in kept:
        for button in row:
            data = button.callback_data
            if isinstance(data, str) and len(data.encode()) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return InlineKeyboardMarkup(kept) if kept else None


def without_button(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    """The same keyboard minus the button that carries `data` (a button already used)."""
    if markup is None:
        return None
    rows = [[b for b in row if b.callback_data != data] for row in markup.inline_keyboard]
    return keyboard(rows)


# -- callback data -----------------------------------------------------------------------


def fact_ref(fact_id: str) -> str:
    """How a button names a fact: its id, or a short hash when the id would overflow 64 bytes."""
    if len(fact_id.encode()) <= _REF_LIMIT:
        return fact_id
    return "~" + hashlib.blake2b(fact_id.encode(), digest_size=8).hexdigest()


def resolve_ref(service: FactService, ref: str) -> Fact | None:
    """The live fact a button points to; None if it was removed or retired since."""
    if ref.startswith("~"):
        found = next((f for f in service.facts() if fact_ref(f.id) == ref), None)
    else:
        found = service.fact(ref)
    return found if found is not None and not found.retired else None


def _pack(*parts: str | int) -> str:
    data = ":".join(str(p) for p in parts)
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def pick_data(lang: str, query_id: int, fact: Fact) -> str:
    """The query id rides along so the edited answer's 👍/👎 still reach the logged question."""
    return _pack("d", lang, query_id, fact_ref(fact.id))


def show_data(lang: str, fact: Fact) -> str:
    """The language rides along: a press must answer in the question's language, not the UI's."""
    return _pack("r", lang, fact_ref(fact.id))


def evidence_data(lang: str, fact: Fact) -> str:
    """Quotes are shown under the answer in the language the answer was given in."""
    return _pack("e", lang, fact_ref(fact.id))


def vote_data(query_id: int, vote: int) -> str:
    """Only the log row id: the vote is about the question as asked, whoever presses."""
    return _pack("f", query_id, vote)


def browse_data(country: str = "", topic: str = "", page: int = 0) -> str:
    """Browsing state lives in the button itself, so any old menu still works after a restart."""
    if not country:
        return "t"
    if not topic:
        return _pack("t", country)
    return _pack("t", country, topic, page)


def parse(data: str) -> Action:
    """Read callback data back; raises CallbackDataError for anything this bot did not write."""
    parts = data.split(":")
    kind, args = parts[0], parts[1:]
    try:
        if kind == "d" and len(args) == 3:
            return Action("d", lang=_lang(args[0]), query_id=int(args[1]), ref=args[2])
        if kind in ("r", "e") and len(args) == 2:
            return Action(kind, lang=_lang(args[0]), ref=args[1])
        if kind == "f" and len(args) == 2 and args[1] in ("1", "-1"):
            return Action("f", query_id=int(args[0]), vote=int(args[1]))
        if kind == "t" and len(args) in (0, 1, 3):
            country = args[0] if args else ""
            if country and country not in COUNTRIES:
                raise CallbackDataError(data)
            if len(args) == 3:
                if args[1] not in TOPICS:
                    raise CallbackDataError(data)
                return Action("t", country=country, topic=args[1], page=max(0, int(args[2])))
            return Action("t", country=country)
    except ValueError as exc:
        raise CallbackDataError(data) from exc
    raise CallbackDataError(data)


def _lang(value: str) -> str:
    if value not in ("en", "ru"):
        raise CallbackDataError(value)
    return value


# -- answers -----------------------------------------------------------------------------


def answer(
    service: FactService,
    fact: Fact,
    lang: str,
    *,
    query_id: int | None = None,
    inline: bool = False,
    with_evidence: bool = False,
) -> Outgoing:
    """A sourced answer with its buttons: source article, related facts, 📄 quotes, 👍/👎.

    Inline messages live in chats the bot may not be in, so they only get buttons that work
    there: the article link and the quotes (which edit the message in place).
    """
    t = texts(lang)
    text = service.render(fact, lang, "html")
    if with_evidence:
        text += "\n\n" + evidence_text(service, fact, lang)
    rows: list[list[InlineKeyboardButton]] = []
    urls = [service.sources[s].url for s in fact.sources if s in service.sources]
    links = [u for u in dict.fromkeys(urls) if u][:2]
    rows.append(
        [
            InlineKeyboardButton(t.button_source + (f" {i}" if len(links) > 1 else ""), url=u)
            for i, u in enumerate(links, 1)
        ]
    )
    if not inline:
        for other in service.related(fact, RELATED):
            rows.append(
                [
                    InlineKeyboardButton(
                        _question(other, lang), callback_data=show_data(lang, other)
                    )
                ]
            )
    if fact.evidence and not with_evidence:
        rows.append(
            [InlineKeyboardButton(t.button_evidence, callback_data=evidence_data(lang, fact))]
        )
    if query_id and not inline:
        rows.append(
            [
                InlineKeyboardButton("👍", callback_data=vote_data(query_id, 1)),
                InlineKeyboardButton("👎", callback_data=vote_data(query_id, -1)),
            ]
        )
    return Outgoing(text, keyboard(rows))


def evidence_text(service: FactService, fact: Fact, lang: str) -> str:
    """The article's own words under a fact (in the article's language), or why there are none."""
    if not fact.evidence:
        return texts(lang).no_evidence
    return service.composer.evidence(fact, lang, "html")


def fact_view(service: FactService, fact: Fact, lang: str) -> list[Outgoing]:
    """/fact and deep links: the answer with the article's words under it.

    Should the quotes not fit in one message with the answer, they follow in their own.
    """
    full = answer(service, fact, lang, with_evidence=True)
    if visible_length(full.text) <= MAX_TEXT:
        return [full]
    quotes = split_blocks(evidence_text(service, fact, lang).split("\n\n"))
    return [Outgoing(service.render(fact, lang, "html"), full.markup)] + [
        Outgoing(chunk) for chunk in quotes
    ]


def suggestions(reply: Reply, lang: str, query_id: int) -> Outgoing:
    """A "did you mean": one button per candidate fact, each answering in place when pressed."""
    t = texts(lang)
    rows = [
        [
            InlineKeyboardButton(
                _question(fact, lang), callback_data=pick_data(lang, query_id, fact)
            )
        ]
        for fact, _ in reply.suggestions[:3]
    ]
    rows.append([InlineKeyboardButton(t.button_topics, callback_data=browse_data())])
    return Outgoing(t.did_you_mean, keyboard(rows))


def decline(lang: str) -> Outgoing:
    """No sourced answer: say so, and point at what the bot does know."""
    t = texts(lang)
    button = InlineKeyboardButton(t.button_topics, callback_data=browse_data())
    return Outgoing(t.decline, keyboard([[button]]))


def _question(fact: Fact, lang: str) -> str:
    phrasings = fact.questions_in(lang)
    return label(
        phrasings[0] if phrasings else texts(lang).inline_title_fallback.format(fact_id=fact.id)
    )


def inline_title(fact: Fact, lang: str) -> str:
    """An inline result is titled with the question it answers, as the user would ask it."""
    return _question(fact, lang)


# -- browsing ----------------------------------------------------------------------------


def countries(service: FactService, lang: str) -> Outgoing:
    """The top of /topics, with counts so a reader sees where the facts are."""
    t = texts(lang)
    counts = Counter(f.country for f in service.facts())
    rows = [
        [InlineKeyboardButton(f"{t.countries[c]} · {counts[c]}", callback_data=browse_data(c))]
        for c in COUNTRIES
        if counts[c]
    ]
    return Outgoing(t.topics_head if rows else t.topics_empty, keyboard(rows))


def topics(service: FactService, country: str, lang: str) -> Outgoing:
    """One country's topics; empty topics are left out rather than shown as dead ends."""
    t = texts(lang)
    counts = Counter(f.topic for f in service.facts() if f.country == country)
    rows = [
        [
            InlineKeyboardButton(
                f"{t.topics[topic]} · {counts[topic]}", callback_data=browse_data(country, topic)
            )
        ]
        for topic in TOPICS
        if counts[topic]
    ]
    rows.append([InlineKeyboardButton(t.button_back, callback_data=browse_data())])
    text = t.topics_country.format(country=html.escape(t.countries[country]))
    return Outgoing(text if len(rows) > 1 else t.topics_empty, keyboard(rows))


def topic_page(service: FactService, country: str, topic: str, page: int, lang: str) -> Outgoing:
    """One page of a topic's facts, newest first, with ◀️/▶️ paging."""
    t = texts(lang)
    facts = sorted(
        (f for f in service.facts() if f.country == country and f.topic == topic),
        key=lambda f: (f.starts, f.id),
        reverse=True,
    )
    pages = max(1, -(-len(facts) // PAGE_SIZE))
    page = min(page, pages - 1)
    shown = facts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [
        [InlineKeyboardButton(_question(f, lang), callback_data=show_data(lang, f))] for f in shown
    ]
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                t.button_prev, callback_data=browse_data(country, topic, page - 1)
            )
        )
    if page + 1 < pages:
        nav.append(
            InlineKeyboardButton(
                t.button_next, callback_data=browse_data(country, topic, page + 1)
            )
        )
    rows.append(nav)
    rows.append([InlineKeyboardButton(t.button_back, callback_data=browse_data(country))])
    text = t.topics_page.format(
        country=html.escape(t.countries[country]),
        topic=html.escape(t.topics[topic]),
        page=page + 1,
        pages=pages,
    )
    return Outgoing(text if shown else t.topics_empty, keyboard(rows))


# -- lists -------------------------------------------------------------------------------


def sources_list(service: FactService, lang: str) -> list[str]:
    """/sources: each article with outlet, date and address, and how many facts rest on it."""
    t = texts(lang)
    used = Counter(s for f in service.facts() for s in dict.fromkeys(f.sources))
    blocks = [t.sources_head]
    for n, source in enumerate(sorted(service.sources.values(), key=lambda s: s.published), 1):
        citation = service.composer.citation(source, lang, "html")
        if not source.url:
            citation += f" ({t.source_no_url})"
        blocks.append(
            t.source_line.format(
                n=n,
                citation=citation,
                author=html.escape(source.author),
                facts=t.source_facts.format(count=used[source.id]),
            )
        )
    return split_blocks(blocks)


def fact_date(fact: Fact, lang: str) -> str:
    """A fact's date or period as people write it: "30 March 2023", "May – June 2016"."""
    return " – ".join(human_date(part, lang) for part in fact.date.split("/"))


def timeline(service: FactService, country: str | None, lang: str) -> list[str]:
    """/timeline: the dated events (facts marked timeline) in order, oldest first."""
    t = texts(lang)
    events = sorted(
        (f for f in service.facts() if f.timeline and (country is None or f.country == country)),
        key=lambda f: (f.starts, f.date, f.id),
    )
    if country is None:
        head = t.timeline_head
    else:
        name = t.countries[country].split(" ", 1)[-1]
        head = t.timeline_country_head.format(country=html.escape(name))
    if not events:
        return [f"{head}\n\n{t.timeline_empty}"]
    blocks = [head]
    for fact in events:
        body = html.escape(fact.answer_in(lang), quote=False)
        blocks.append(f"<b>{fact_date(fact, lang)}</b> — {body}\n<i>/fact {fact.id}</i>")
    return split_blocks(blocks)


def help_text(lang: str, bot_username: str) -> str:
    """/help, listing the command table so it can never disagree with the menu."""
    t = texts(lang)
    lines = [t.help_head, "", *(html.escape(line, quote=False) for line in help_lines(lang))]
    lines += ["", t.help_questions.format(bot=html.escape(bot_username))]
    return "\n".join(lines)
