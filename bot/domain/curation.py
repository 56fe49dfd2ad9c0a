"""Curating the fact base from a chat: roles, drafts of new facts, edits, ids, differences, /find.

Pure Python without Telegram or SQL, so every rule an admin meets in the chat is tested here.
Field rules are never restated: each step asks `validate_fact_data` / `validate_source_data`
(the validator behind `tiesbot knowledge check`) and keeps only what it says about that step's
field, so a rule changed there changes everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import FACT_FIELDS, validate_fact_data, validate_source_data
from bot.domain.models import COUNTRIES, ID_RE, LANGUAGES, TOPICS, Evidence, Fact, Source

Role = Literal["owner", "editor"]
FieldError = tuple[str, str]

COUNTRY_CODES: Mapping[str, str] = {"azerbaijan": "az", "iran": "ir", "belarus": "by"}
ID_LIMIT = 40  # a fact id travels in /commands and buttons; long ids read badly there
NO_VALUE = ("-", "—", "none", "no", "нет")


# -- roles -----------------------------------------------------------------------------------


def role_of(user_id: int | None, owners: Collection[int], editors: Collection[int]) -> Role | None:
    """Owners are ADMIN_IDS, editors are granted by owners; anyone else has no role."""
    if user_id is None:
        return None
    if user_id in owners:
        return "owner"
    if user_id in editors:
        return "editor"
    return None


def actor_id(user_id: int) -> str:
    """How revisions name a Telegram admin."""
    return f"tg:{user_id}"


# -- ids -------------------------------------------------------------------------------------

_LATIN = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya i u e"
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіўє", _LATIN.split(), strict=True))
_CYRILLIC.update({"ъ": "", "ь": ""})
_SLUG_STOP = frozenset(
    """a an the of and or in on at to for from with by as is are was were be been did does do
    what when where who whom which why how much many has have had it its this that these those
    about into between belarus belarusian azerbaijan iran minsk baku tehran""".split()
)


def slug_words(text: str) -> list[str]:
    """Lowercase ASCII words of a text, Cyrillic transliterated, filler dropped."""
    latin = "".join(_CYRILLIC.get(ch, ch) for ch in text.lower()).replace("-", " ")
    words = re.findall(r"[a-z0-9]+", latin)
    return [w for w in words if w not in _SLUG_STOP]


def unique_id(base: str, taken: Collection[str]) -> str:
    """`base`, or `base-2`, `base-3`… — the first one nobody uses."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _join(parts: Iterable[str], limit: int) -> str:
    out = ""
    for part in parts:
        candidate = f"{out}-{part}" if out else part
        if len(candidate) > limit and out:
            break
        out = candidate[:limit].strip("-")
    return out


def new_fact_id(country: str, topic: str, text: str, taken: Collection[str]) -> str:
    """A readable unique slug: country code, topic, then the first telling words of `text`."""
    head = [COUNTRY_CODES.get(country, "xx"), topic or "fact"]
    words = slug_words(text)[:4] or ["fact"]
    return unique_id(_join([*head, *words], ID_LIMIT - 3), taken)


def new_source_id(outlet: str, published: str, title: str, taken: Collection[str]) -> str:
    """Like the curated ids: outlet initials, the year, then title words."""
    outlet_words = slug_words(outlet)
    initials = "".join(w[0] for w in outlet_words[:4]) or "src"
    year = published[:4] if published[:4].isdigit() else ""
    parts = [initials, *([year] if year else []), *slug_words(title)[:4]]
    return unique_id(_join(parts, ID_LIMIT - 3), taken)


# -- reading an admin's typed values -------------------------------------------------------


def lines(text: str) -> list[str]:
    """One entry per line (question phrasings may contain commas), blanks dropped."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def words_list(text: str) -> list[str]:
    """Keywords and aliases: separated by commas, semicolons or lines."""
    return [" ".join(w.split()) for w in re.split(r"[,;\n]", text) if w.strip()]


def is_none(text: str) -> bool:
    """Whether an admin meant "nothing" (an optional value left empty)."""
    return text.strip().lower() in NO_VALUE


def _belongs(name: str, wanted: str) -> bool:
    return name == wanted or name.startswith((f"{wanted}.", f"{wanted}["))


def _only(errors: Iterable[FieldError], *fields: str) -> list[FieldError]:
    return [(f, r) for f, r in errors if any(_belongs(f, w) for w in fields)]


@dataclass(frozen=True)
class Rules:
    """What a value is checked against: the sources the bot knows and their article texts."""

    sources: Mapping[str, Source]
    texts: SourceTexts


def check_fields(data: dict[str, Any], rules: Rules, *fields: str) -> list[FieldError]:
    """The validator's verdict on just these fields of a (partial) fact."""
    return _only(validate_fact_data(data, rules.sources, rules.texts), *fields)


def check_source_field(name: str, value: str) -> list[FieldError]:
    """The validator's verdict on one field of a new source (title, outlet, published, url)."""
    return _only(validate_source_data({name: value or None}), name)


def check_quote(quote: str, source_id: str, rules: Rules) -> list[FieldError]:
    """One evidence quote: not empty, within the word limit, the article's own words when its
    text is known (else accepted as given: see `unverified`)."""
    data = {
        "sources": [source_id],
        "evidence": [{"source": source_id, "quote": quote}],
    }
    errors = check_fields(data, rules, "evidence")
    return [(f.replace("evidence[1]", "evidence"), r) for f, r in errors]


# -- a new fact, step by step ---------------------------------------------------------------


@dataclass
class Draft:
    """A new fact being put together (/add), or read from one YAML message.

    Each `set_*` method checks its value and changes the draft only when the value is valid,
    returning the problems otherwise, so the conversation can stay at its step.
    """

    country: str = ""
    topic: str = ""
    date: str = ""
    answer: dict[str, str] = field(default_factory=dict)
    questions: dict[str, list[str]] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    timeline: bool = False
    sources: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    new_source: Source | None = None
    source_fields: dict[str, str] = field(default_factory=dict)
    fact_id: str = ""

    @property
    def source_id(self) -> str:
        """The source the guided steps quote from (the one chosen or added)."""
        return self.sources[0] if self.sources else ""

    def _set(self, name: str, value: str, rules: Rules) -> list[FieldError]:
        value = value.strip()
        errors = check_fields({name: value}, rules, name)
        if not errors:
            setattr(self, name, value)
        return errors

    def set_country(self, value: str, rules: Rules) -> list[FieldError]:
        return self._set("country", value.lower(), rules)

    def set_topic(self, value: str, rules: Rules) -> list[FieldError]:
        """Topic step."""
        return self._set("topic", value.lower(), rules)

    def set_date(self, value: str, rules: Rules) -> list[FieldError]:
        """Date step."""
        return self._set("date", value, rules)

    def set_answer(self, lang: str, text: str, rules: Rules) -> list[FieldError]:
        """One language's answer."""
        text = text.strip()
        errors = check_fields({"answer": {lang: text}}, rules, f"answer.{lang}")
        if not errors:
            self.answer[lang] = text
        return errors

    def add_questions(self, lang: str, text: str, rules: Rules) -> list[FieldError]:
        """Phrasings, one per line, added to any already there (a pre-filled question)."""
        merged = list(dict.fromkeys([*self.questions.get(lang, []), *lines(text)]))
        errors = check_fields({"questions": {lang: merged}}, rules, f"questions.{lang}")
        if not errors:
            self.questions[lang] = merged
        return errors

    def set_keywords(self, text: str, rules: Rules) -> list[FieldError]:
        """Keywords, comma-separated."""
        found = words_list(text)
        errors = check_fields({"keywords": found}, rules, "keywords")
        if not errors:
            self.keywords = found
        return errors

    def choose_source(self, source_id: str, rules: Rules) -> list[FieldError]:
        """A known source; starts its quotes afresh."""
        source_id = source_id.strip()
        errors = check_fields({"sources": [source_id]}, rules, "sources")
        if not errors:
            self.sources, self.new_source, self.evidence = [source_id], None, []
        return errors

    def set_source_field(self, name: str, value: str) -> list[FieldError]:
        """One field of a new source; `url` accepts "-" for "no web address"."""
        value = " ".join(value.split())
        if name == "url" and is_none(value):
            self.source_fields.pop("url", None)
            return []
        errors = check_source_field(name, value)
        if not errors:
            self.source_fields[name] = value
        return errors

    def finish_source(self, rules: Rules) -> list[FieldError]:
        """Turn the collected fields into a new source with a fresh id."""
        f = self.source_fields
        sid = new_source_id(
            f.get("outlet", ""), f.get("published", ""), f.get("title", ""), set(rules.sources)
        )
        data: dict[str, Any] = {
            "id": sid,
            "title": f.get("title", ""),
            "outlet": f.get("outlet", ""),
            "author": "not named",
            "published": f.get("published", ""),
            "url": f.get("url"),
            "language": "en",
        }
        errors = validate_source_data(data)
        if not errors:
            self.new_source = Source.from_dict(data)
            self.sources, self.evidence = [sid], []
        return errors

    def add_quote(self, quote: str, rules: Rules) -> list[FieldError]:
        """One evidence quote from the chosen source."""
        quote = quote.strip()
        errors = check_quote(quote, self.source_id, self.rules_with_new(rules))
        item = Evidence(self.source_id, quote)
        if not errors and item not in self.evidence:
            self.evidence.append(item)
        return errors

    def rules_with_new(self, rules: Rules) -> Rules:
        """The rules with this draft's new source known (its text never is)."""
        if self.new_source is None:
            return rules
        return Rules({**rules.sources, self.new_source.id: self.new_source}, rules.texts)

    def data(self) -> dict[str, Any]:
        """The draft in fact-file shape."""
        return {
            "id": self.fact_id,
            "country": self.country,
            "topic": self.topic,
            "date": self.date,
            "timeline": self.timeline,
            "answer": dict(self.answer),
            "questions": {k: list(v) for k, v in self.questions.items()},
            "keywords": list(self.keywords),
            "aliases": list(self.aliases),
            "sources": list(self.sources),
            "evidence": [e.to_dict() for e in self.evidence],
        }

    def build(self, rules: Rules, taken: Collection[str]) -> tuple[Fact | None, list[FieldError]]:
        """The finished fact with a new unique id, or every rule it still breaks."""
        if not self.fact_id or self.fact_id in taken:
            words = (self.questions.get("en") or [self.answer.get("en", "")])[0]
            self.fact_id = new_fact_id(self.country, self.topic, words, taken)
        errors = validate_fact_data(self.data(), self.rules_with_new(rules).sources, rules.texts)
        if errors:
            return None, errors
        return Fact.from_dict(self.data()), []


def draft_from_yaml(
    text: str, rules: Rules, taken: Collection[str]
) -> tuple[Draft, list[FieldError]]:
    """The one-message form of /add: a fact mapping in YAML, optionally with `new_source`.

    `id` and `aliases` may be left out (an id is made up, aliases default to none). A
    `new_source` mapping (title, outlet, published, url) adds a source whose text the bot does
    not hold; its quotes are then stored as given and marked unverified.
    """
    draft = Draft()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return draft, [("yaml", f"{where}{getattr(exc, 'problem', None) or exc}")]
    if not isinstance(data, dict):
        return draft, [("yaml", "must be one fact: a mapping of fields such as country: iran")]
    data = {str(k): v for k, v in data.items()}
    errors: list[FieldError] = []
    known = dict(rules.sources)
    new = data.pop("new_source", None)
    if new is not None:
        if not isinstance(new, dict):
            return draft, [("new_source", "must be a mapping with title, outlet, published, url")]
        fields = {str(k): _text(v) for k, v in new.items()}
        fields.pop("id", None)
        for name, value in fields.items():
            if name == "url" and (value is None or is_none(str(value))):
                continue
            errors += [(f"new_source.{f}", r) for f, r in draft.set_source_field(name, str(value))]
        if not errors:
            errors += [(f"new_source.{f}", r) for f, r in draft.finish_source(rules)]
        if draft.new_source is not None:
            known[draft.new_source.id] = draft.new_source
            if not data.get("sources"):
                data["sources"] = [draft.new_source.id]
            for item in data.get("evidence") or ():
                if isinstance(item, dict) and "source" not in item:
                    item["source"] = draft.new_source.id
    data.setdefault("aliases", [])
    fact_id = data.get("id")
    if fact_id in (None, ""):
        data["id"] = "pending"  # checked below once the fields an id is made of are known
    elif str(fact_id) in taken:
        errors.append(("id", f"'{fact_id}' is taken: leave id out to get a new one"))
    errors += validate_fact_data(data, known, rules.texts)
    if errors:
        return draft, errors
    fact = Fact.from_dict({k: _text(v) if k == "date" else v for k, v in data.items()})
    draft.country, draft.topic, draft.date = fact.country, fact.topic, fact.date
    draft.answer = dict(fact.answer)
    draft.questions = {k: list(v) for k, v in fact.questions.items()}
    draft.keywords, draft.aliases = list(fact.keywords), list(fact.aliases)
    draft.timeline = fact.timeline
    draft.sources, draft.evidence = list(fact.sources), list(fact.evidence)
    if fact_id not in (None, ""):
        draft.fact_id = str(fact_id)
    return draft, []


def _text(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# -- editing one field -----------------------------------------------------------------------

EDITABLE: tuple[str, ...] = (
    "answer.en",
    "answer.ru",
    "questions.en",
    "questions.ru",
    "keywords",
    "aliases",
    "evidence",
    "sources",
    "date",
    "timeline",
    "country",
    "topic",
)


def field_value(fact: Fact, name: str) -> str:
    """A field as an admin types it back: one entry per line for lists."""
    if name.startswith("answer."):
        return fact.answer.get(name.split(".")[1], "")
    if name.startswith("questions."):
        return "\n".join(fact.questions.get(name.split(".")[1], ()))
    if name in ("keywords", "aliases", "sources"):
        return ", ".join(getattr(fact, name))
    if name == "evidence":
        single = len(fact.sources) == 1
        return "\n".join(e.quote if single else f"{e.source}: {e.quote}" for e in fact.evidence)
    if name == "timeline":
        return "yes" if fact.timeline else "no"
    return str(getattr(fact, name))


def _evidence(text: str, fact: Fact, rules: Rules) -> list[dict[str, str]]:
    """Quotes one per line; "source-id: quote" names the article. A prefix that looks like a
    source id (a hyphenated slug) counts as one even when unknown, so the validator can say
    "unknown source id" instead of failing to find the whole line in the wrong article."""
    items = []
    for line in lines(text):
        head, sep, rest = line.partition(":")
        head = head.strip()
        named = head in rules.sources or ("-" in head and ID_RE.match(head) is not None)
        if sep and named and rest.strip():
            items.append({"source": head, "quote": rest.strip()})
        else:
            items.append({"source": fact.sources[0] if fact.sources else "", "quote": line})
    return items


def edit_fact(
    fact: Fact, name: str, text: str, rules: Rules
) -> tuple[Fact | None, list[FieldError]]:
    """The fact with one field replaced by what an admin typed, or the rules the result breaks.

    Evidence lines may start with "source-id: " to quote another known article, which then
    joins the fact's sources (a quote from an article means citing it).
    """
    if name not in EDITABLE:
        return None, [(name, f"cannot be edited here (editable: {', '.join(EDITABLE)})")]
    data = fact.to_dict()
    data.pop("retired", None)
    text = text.strip()
    if name.startswith(("answer.", "questions.")):
        top, lang = name.split(".")
        data[top] = dict(data[top])
        data[top][lang] = text if top == "answer" else lines(text)
    elif name == "keywords" or name == "sources":
        data[name] = words_list(text)
    elif name == "aliases":
        data[name] = [] if is_none(text) else words_list(text)
    elif name == "evidence":
        data["evidence"] = _evidence(text, fact, rules)
        for item in data["evidence"]:
            if item["source"] and item["source"] not in data["sources"]:
                data["sources"].append(item["source"])
    elif name == "timeline":
        answer = text.lower()
        if answer not in ("yes", "no", "true", "false", "да", "нет"):
            return None, [("timeline", "must be yes or no")]
        data["timeline"] = answer in ("yes", "true", "да")
    else:
        data[name] = text.lower() if name in ("country", "topic") else text
    errors = validate_fact_data(data, rules.sources, rules.texts)
    if errors:
        mine = _only(errors, name.split(".")[0] if name == "evidence" else name)
        others = [e for e in errors if e not in mine]
        return None, mine + others
    return Fact.from_dict({**data, "retired": fact.retired}), []


def with_phrasing(fact: Fact, question: str, lang: str) -> Fact:
    """The fact with one more way of asking it (from the unanswered list)."""
    lang = lang if lang in LANGUAGES else "en"
    phrasing = " ".join(question.split())
    current = fact.questions.get(lang, ())
    if phrasing in current:
        return fact
    return fact.with_changes(questions={**fact.questions, lang: (*current, phrasing)})


# -- differences -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field that differs between two versions of a fact, as text an admin can read."""

    field: str
    before: str
    after: str


DIFF_FIELDS: tuple[str, ...] = (
    "retired",
    "country",
    "topic",
    "date",
    "timeline",
    "answer.en",
    "answer.ru",
    "questions.en",
    "questions.ru",
    "keywords",
    "aliases",
    "sources",
    "evidence",
)


def _shown(fact: Fact | None, name: str) -> str:
    if fact is None:
        return ""
    if name == "retired":
        return "yes" if fact.retired else "no"
    if name == "evidence":
        return " | ".join(f"{e.source}: {e.quote}" for e in fact.evidence)
    if name.startswith("questions."):
        return " | ".join(fact.questions.get(name.split(".")[1], ()))
    return field_value(fact, name)


def changes(before: Fact | None, after: Fact | None) -> list[Change]:
    """Every field that differs, in a fixed order; a new fact differs in every field it has."""
    out = []
    for name in DIFF_FIELDS:
        old, new = _shown(before, name), _shown(after, name)
        if old != new and not (name == "retired" and before is None and new == "no"):
            out.append(Change(name, old, new))
    return out


def shorten(text: str, limit: int = 80) -> str:
    """Text on one line, cut with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# -- finding facts ---------------------------------------------------------------------------


def unverified(fact: Fact, texts: SourceTexts) -> list[Evidence]:
    """Quotes whose article text the bot does not hold, so nobody has checked them."""
    return [e for e in fact.evidence if not texts.knows(e.source)]


def find_facts(
    facts: Iterable[Fact], query: str, ranked: Sequence[str] = (), limit: int = 15
) -> list[Fact]:
    """/find: by id first, then by words in answers, phrasings, keywords and aliases, then the
    matcher's ranking (`ranked`, ids of live facts) — retired facts included."""
    wanted = " ".join(query.split()).casefold()
    if not wanted:
        return []
    by_id = {f.id: f for f in facts}
    found: dict[str, Fact] = {}
    if wanted in by_id:
        found[wanted] = by_id[wanted]
    for fact in sorted(by_id.values(), key=lambda f: f.id):
        if wanted in fact.id:
            found.setdefault(fact.id, fact)
    for fact in sorted(by_id.values(), key=lambda f: f.id):
        haystack = " \n".join(
            [
                *fact.answer.values(),
                *(q for qs in fact.questions.values() for q in qs),
                *fact.keywords,
                *fact.aliases,
            ]
        ).casefold()
        if wanted in haystack:
            found.setdefault(fact.id, fact)
    for fact_id in ranked:
        if fact_id in by_id:
            found.setdefault(fact_id, by_id[fact_id])
    return list(found.values())[:limit]


# -- unanswered questions --------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedQuestion:
    """Rows of the query log for one exact question text (the store groups them)."""

    question: str
    lang: str
    outcome: str
    count: int
    last_at: str


@dataclass(frozen=True)
class Missed:
    """A question people asked that the bot could not answer outright, however they typed it."""

    key: str
    question: str
    lang: str
    count: int
    declined: int
    suggested: int
    last_at: str


def question_key(text: str) -> str:
    """The same question typed differently: case, spacing and end punctuation ignored."""
    return " ".join(text.split()).casefold().rstrip("?!.…¿ ").strip()


def rank_missed(
    rows: Iterable[LoggedQuestion], ignored: Collection[str], limit: int = 10
) -> list[Missed]:
    """The most asked declined and did-you-mean questions, ignored ones left out."""
    groups: dict[str, list[LoggedQuestion]] = {}
    for row in rows:
        key = question_key(row.question)
        if key and key not in ignored:
            groups.setdefault(key, []).append(row)
    out = []
    for key, group in groups.items():
        spellings: Counter[str] = Counter()
        langs: Counter[str] = Counter()
        for row in group:
            spellings[" ".join(row.question.split())] += row.count
            langs[row.lang] += row.count
        out.append(
            Missed(
                key=key,
                question=spellings.most_common(1)[0][0],
                lang=langs.most_common(1)[0][0],
                count=sum(r.count for r in group),
                declined=sum(r.count for r in group if r.outcome == "declined"),
                suggested=sum(r.count for r in group if r.outcome == "suggested"),
                last_at=max(r.last_at for r in group),
            )
        )
    # Most asked first; among equals the most recent, then a stable order by text.
    out.sort(key=lambda m: m.key)
    out.sort(key=lambda m: (m.count, m.last_at), reverse=True)
    return out[:limit]


__all__ = [
    "COUNTRIES",
    "EDITABLE",
    "FACT_FIELDS",
    "TOPICS",
    "Change",
    "Draft",
    "FieldError",
    "LoggedQuestion",
    "Missed",
    "Role",
    "Rules",
    "actor_id",
    "changes",
    "draft_from_yaml",
    "edit_fact",
    "find_facts",
    "new_fact_id",
    "new_source_id",
    "question_key",
    "rank_missed",
    "role_of",
    "unverified",
    "with_phrasing",
]
