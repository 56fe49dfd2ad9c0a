"""Composes what a reader sees: the answer, its "as of" date and its citation.

One composer serves the console, the command line, Telegram and the digest, in plain text or
Telegram HTML, so a citation always looks the same and every fact field is escaped exactly once.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.domain.evidence import readable
from bot.domain.models import Fact, Source, parse_partial_date

Format = Literal["text", "html"]

_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "ru-nominative": "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь "
    "декабрь",
}
_LABELS = {
    "en": {"as_of": "As of", "source": "Source", "quote": "What the article says"},
    "ru": {"as_of": "По состоянию на", "source": "Источник", "quote": "Текст статьи"},
}


def human_date(value: str, lang: str) -> str:
    """A YYYY[-MM[-DD]] date as people write it: "30 March 2023", "30 марта 2023"."""
    parts = value.split("-")
    day = parse_partial_date(value)
    months = _MONTHS.get(lang, _MONTHS["en"]).split()
    if len(parts) == 1:
        return parts[0]
    month = months[day.month - 1]
    if len(parts) == 2:
        if lang == "ru":
            month = [
                "январь",
                "февраль",
                "март",
                "апрель",
                "май",
                "июнь",
                "июль",
                "август",
                "сентябрь",
                "октябрь",
                "ноябрь",
                "декабрь",
            ][day.month - 1]
        return f"{month} {day.year}"
    return f"{day.day} {month} {day.year}"


@dataclass(frozen=True)
class Composer:
    """Renders facts with the sources they cite."""

    sources: Mapping[str, Source]

    def _esc(self, text: str, fmt: Format) -> str:
        return html.escape(text, quote=False) if fmt == "html" else text

    def citation(self, source: Source, lang: str, fmt: Format = "text") -> str:
        """“Title”, Outlet, 30 March 2023, address — the fields a reader needs to find it."""
        title = f"“{source.title}”"
        parts = [
            f"<i>{self._esc(title, fmt)}</i>" if fmt == "html" else title,
            self._esc(source.outlet, fmt),
            human_date(source.published, lang),
        ]
        if source.url:
            url = source.url
            parts.append(
                f'<a href="{html.escape(url, quote=True)}">{self._esc(url, fmt)}</a>'
                if fmt == "html"
                else url
            )
        return ", ".join(parts)

    def as_of(self, fact: Fact) -> str:
        """The date of the newest source a fact rests on: what the fact is true "as of"."""
        dates = [self.sources[s].published for s in fact.sources if s in self.sources]
        return max(dates, key=parse_partial_date) if dates else fact.date

    def answer(self, fact: Fact, lang: str, fmt: Format = "text") -> str:
        """The fact's answer, dated, ending with its citation(s)."""
        label = _LABELS.get(lang, _LABELS["en"])
        body = self._esc(fact.answer_in(lang), fmt)
        dated = f"{label['as_of']} {human_date(self.as_of(fact), lang)}"
        cites = [
            self.citation(self.sources[s], lang, fmt) for s in fact.sources if s in self.sources
        ]
        source_line = f"{label['source']}: " + "; ".join(cites)
        if fmt == "html":
            return f"{body}\n\n<i>{dated}.</i>\n📄 {source_line}"
        return f"{body}\n\n{dated}. {source_line}"

    def evidence(self, fact: Fact, lang: str, fmt: Format = "text") -> str:
        """The article's own words under a fact, with citation and "as of" date."""
        label = _LABELS.get(lang, _LABELS["en"])
        blocks = []
        for item in fact.evidence:
            quote = self._esc(readable(item.quote), fmt)
            source = self.sources.get(item.source)
            cite = self.citation(source, lang, fmt) if source else item.source
            if fmt == "html":
                blocks.append(f"<blockquote>{quote}</blockquote>\n— {cite}")
            else:
                blocks.append(f"«{quote}»\n— {cite}")
        dated = f"{label['as_of']} {human_date(self.as_of(fact), lang)}"
        head = f"📄 {label['quote']}"
        head = f"<b>{head}</b>" if fmt == "html" else head
        return f"{head}\n\n" + "\n\n".join(blocks) + f"\n\n{dated}."
