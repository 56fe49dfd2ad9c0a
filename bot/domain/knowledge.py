"""Reading, validating and writing the human-edited fact files in `knowledge/`.

The same validator serves `tiesbot knowledge check`, `knowledge load`, the admins' `/import` and
the admins' guided edits, so a rule is stated once and every entry point reports it the same way:
`file:line: what is wrong` for files, the field name and the rule for a single fact.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.domain.evidence import SourceTexts
from bot.domain.models import (
    ANSWER_LIMIT,
    COUNTRIES,
    ID_RE,
    LANGUAGES,
    MIN_QUESTIONS,
    QUOTE_WORD_LIMIT,
    TOPICS,
    Fact,
    Source,
    valid_date,
)

SOURCES_FILE = "sources.yaml"
FACTS_DIR = "facts"
FACT_FIELDS = (
    "id",
    "country",
    "topic",
    "date",
    "timeline",
    "answer",
    "questions",
    "keywords",
    "aliases",
    "sources",
    "evidence",
    "retired",
)
REQUIRED_FACT_FIELDS = tuple(f for f in FACT_FIELDS if f not in {"timeline", "retired"})
SOURCE_FIELDS = ("id", "title", "outlet", "author", "published", "url", "language")
_URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the fact files, located for an editor."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeError(Exception):
    """The fact files are invalid; nothing may be imported from them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class KnowledgeBase:
    sources: tuple[Source, ...]
    facts: tuple[Fact, ...]


def _scalar(value: Any) -> Any:
    """YAML turns 2024 into an int and 2024-05-15 into a date; the schema wants text."""
    if isinstance(value, dt.date | int) and not isinstance(value, bool):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def validate_fact_data(
    data: Any, known_sources: Iterable[str], texts: SourceTexts | None = None
) -> list[tuple[str, str]]:
    """Every rule a fact breaks, as (field, rule) pairs; empty when the fact is valid."""
    if not isinstance(data, dict):
        return [("fact", "must be a mapping of fields")]
    errors: list[tuple[str, str]] = []
    for name in data:
        if name not in FACT_FIELDS:
            errors.append((str(name), f"unknown field (allowed: {', '.join(FACT_FIELDS)})"))
    for name in REQUIRED_FACT_FIELDS:
        empty = name not in data or data[name] in (None, "", [], {})
        # An empty alias list is fine; a missing one is not.
        if empty and (name != "aliases" or name not in data):
            errors.append((name, "missing field"))
    fact_id = _scalar(data.get("id"))
    if "id" in data and not (isinstance(fact_id, str) and ID_RE.match(fact_id)):
        errors.append(("id", "must be a slug of lowercase letters, digits and hyphens"))
    if "country" in data and data["country"] not in COUNTRIES:
        errors.append(("country", f"must be one of {', '.join(COUNTRIES)}"))
    if "topic" in data and data["topic"] not in TOPICS:
        errors.append(("topic", f"must be one of {', '.join(TOPICS)}"))
    date = _scalar(data.get("date"))
    if "date" in data and not (isinstance(date, str) and valid_date(date)):
        errors.append(("date", "must be YYYY, YYYY-MM, YYYY-MM-DD or START/END of those"))
    for flag in ("timeline", "retired"):
        if flag in data and not isinstance(data[flag], bool):
            errors.append((flag, "must be true or false"))
    errors += _check_texts(data)
    known = set(known_sources)
    errors += _check_sources_and_evidence(data, known, texts)
    return errors


def _check_texts(data: dict[str, Any]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    answer = data.get("answer")
    if "answer" in data and not isinstance(answer, dict):
        errors.append(("answer", "must have an 'en' and a 'ru' text"))
    elif isinstance(answer, dict):
        for lang in LANGUAGES:
            text = answer.get(lang)
            if not isinstance(text, str) or not text.strip():
                errors.append((f"answer.{lang}", "missing text"))
            elif len(text) > ANSWER_LIMIT:
                errors.append(
                    (f"answer.{lang}", f"{len(text)} characters, over the {ANSWER_LIMIT} limit")
                )
    questions = data.get("questions")
    if "questions" in data and not isinstance(questions, dict):
        errors.append(("questions", "must list 'en' and 'ru' phrasings"))
    elif isinstance(questions, dict):
        for lang, least in MIN_QUESTIONS.items():
            phrasings = questions.get(lang)
            if (
                not (isinstance(phrasings, list) and _string_list(phrasings))
                or len(phrasings) < least
            ):
                errors.append((f"questions.{lang}", f"needs at least {least} phrasings"))
    for name in ("keywords", "aliases"):
        if data.get(name) is not None and not _string_list(data[name]):
            errors.append((name, "must be a list of words"))
    return errors


def _check_sources_and_evidence(
    data: dict[str, Any], known: set[str], texts: SourceTexts | None
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    sources = data.get("sources")
    if "sources" in data and not _string_list(sources):
        errors.append(("sources", "must list at least one source id"))
    elif isinstance(sources, list):
        for sid in sources:
            if sid not in known:
                errors.append(("sources", f"unknown source id '{sid}'"))
    evidence = data.get("evidence")
    if "evidence" in data and not isinstance(evidence, list):
        errors.append(("evidence", "must list quotes with their source"))
        return errors
    for i, item in enumerate(evidence or ()):
        where = f"evidence[{i + 1}]"
        if not isinstance(item, dict) or set(item) - {"source", "quote"}:
            errors.append((where, "must have exactly 'source' and 'quote'"))
            continue
        sid, quote = item.get("source"), item.get("quote")
        if not isinstance(quote, str) or not quote.strip():
            errors.append((f"{where}.quote", "empty quote"))
            continue
        words = len(quote.split())
        if words > QUOTE_WORD_LIMIT:
            errors.append(
                (f"{where}.quote", f"{words} words, over the {QUOTE_WORD_LIMIT}-word limit")
            )
        if sid not in known:
            errors.append((f"{where}.source", f"unknown source id '{sid}'"))
        elif isinstance(sources, list) and sid not in sources:
            errors.append((f"{where}.source", f"'{sid}' is not among the fact's sources"))
        elif texts is not None and texts.knows(str(sid)):
            found = texts.check(str(sid), quote)
            if not found.ok:
                fact = f"fact '{data['id']}': " if isinstance(data.get("id"), str) else ""
                errors.append(
                    (
                        f"{where}.quote",
                        f"{fact}does not occur in {sid}; closest passage: «{found.closest}»",
                    )
                )
    return errors


def validate_source_data(data: Any) -> list[tuple[str, str]]:
    """Every rule a source entry breaks, as (field, rule) pairs."""
    if not isinstance(data, dict):
        return [("source", "must be a mapping of fields")]
    errors: list[tuple[str, str]] = []
    for name in data:
        if name not in SOURCE_FIELDS:
            errors.append((str(name), f"unknown field (allowed: {', '.join(SOURCE_FIELDS)})"))
    for name in ("id", "title", "outlet", "published"):
        value = _scalar(data.get(name))
        if not isinstance(value, str) or not value.strip():
            errors.append((name, "missing field"))
    sid = data.get("id")
    if isinstance(sid, str) and not ID_RE.match(sid):
        errors.append(("id", "must be a slug of lowercase letters, digits and hyphens"))
    published = _scalar(data.get("published"))
    if isinstance(published, str) and published and not valid_date(published):
        errors.append(("published", "must be YYYY, YYYY-MM or YYYY-MM-DD"))
    url = data.get("url")
    if url is not None and not (isinstance(url, str) and _URL.match(url)):
        errors.append(("url", "must be an http(s) address or null"))
    return errors


class _Located:
    """A parsed YAML list together with the line where each item and field starts."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            self.data: Any = loader.construct_document(node) if node is not None else []
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise KnowledgeError([Problem(name, line, f"YAML error: {problem}")]) from exc
        finally:
            loader.dispose()
        self.item_lines: list[int] = []
        self.field_lines: list[dict[str, int]] = []
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.item_lines.append(item.start_mark.line + 1)
                fields: dict[str, int] = {}
                if isinstance(item, yaml.MappingNode):
                    for key, value in item.value:
                        fields[str(key.value)] = value.start_mark.line + 1
                self.field_lines.append(fields)

    def line(self, index: int, field: str) -> int:
        top = field.split(".")[0].split("[")[0]
        return self.field_lines[index].get(top, self.item_lines[index])


def _normalised(data: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {k: _scalar(data[k]) for k in fields if k in data}


def parse_knowledge(
    files: Mapping[str, str],
    texts: SourceTexts | None = None,
    extra_sources: Iterable[Source] = (),
) -> KnowledgeBase:
    """Validate fact files given as {relative path: text}; raise KnowledgeError with every problem.

    `extra_sources` are sources already known elsewhere (the database), so an admin may upload a
    fact file alone.
    """
    problems: list[Problem] = []
    sources: dict[str, Source] = {s.id: s for s in extra_sources}
    if SOURCES_FILE in files:
        located = _parse_list(SOURCES_FILE, files[SOURCES_FILE], problems)
        seen: dict[str, int] = {}
        for i, item in enumerate(located.data if located else ()):
            assert located is not None
            errors = validate_source_data(item)
            for field, rule in errors:
                problems.append(Problem(SOURCES_FILE, located.line(i, field), f"{field}: {rule}"))
            if errors:
                continue
            sid = str(item["id"])
            if sid in seen:
                problems.append(
                    Problem(
                        SOURCES_FILE,
                        located.item_lines[i],
                        f"duplicate source id '{sid}' (first at line {seen[sid]})",
                    )
                )
                continue
            seen[sid] = located.item_lines[i]
            sources[sid] = Source.from_dict(_normalised(item, SOURCE_FIELDS))
    facts: list[Fact] = []
    first_seen: dict[str, str] = {}
    fact_files = sorted(n for n in files if n.startswith(f"{FACTS_DIR}/") and n.endswith(".yaml"))
    if not fact_files:
        problems.append(Problem(FACTS_DIR, 0, "no fact files (facts/<country>.yaml)"))
    for name in fact_files:
        located = _parse_list(name, files[name], problems)
        if located is None:
            continue
        stem = Path(name).stem
        for i, item in enumerate(located.data):
            errors = validate_fact_data(item, sources, texts)
            if not errors and stem in COUNTRIES and item["country"] != stem:
                errors.append(("country", f"'{item['country']}' fact filed in {name}"))
            for field, rule in errors:
                problems.append(Problem(name, located.line(i, field), f"{field}: {rule}"))
            if errors:
                continue
            fid = str(item["id"])
            where = f"{name}:{located.item_lines[i]}"
            if fid in first_seen:
                problems.append(
                    Problem(
                        name,
                        located.item_lines[i],
                        f"duplicate fact id '{fid}' (first at {first_seen[fid]})",
                    )
                )
                continue
            first_seen[fid] = where
            facts.append(Fact.from_dict(_normalised(item, FACT_FIELDS)))
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(sources=tuple(sources.values()), facts=tuple(facts))


def _parse_list(name: str, text: str, problems: list[Problem]) -> _Located | None:
    try:
        located = _Located(name, text)
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(located.data, list):
        problems.append(Problem(name, 1, "must be a YAML list"))
        return None
    return located


def read_folder(folder: Path) -> dict[str, str]:
    """The fact files of a knowledge folder as {relative path: text}."""
    files: dict[str, str] = {}
    sources = folder / SOURCES_FILE
    if sources.is_file():
        files[SOURCES_FILE] = sources.read_text(encoding="utf-8")
    for path in sorted((folder / FACTS_DIR).glob("*.yaml")):
        files[f"{FACTS_DIR}/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def load_folder(folder: Path, texts: SourceTexts | None = None) -> KnowledgeBase:
    return parse_knowledge(read_folder(folder), texts)


def _dump(items: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)


def render_files(base: KnowledgeBase) -> dict[str, str]:
    """The canonical file layout of a fact base: sources, then one file per country by id."""
    files = {SOURCES_FILE: _dump([s.to_dict() for s in sorted(base.sources, key=lambda s: s.id)])}
    for country in COUNTRIES:
        facts = sorted((f for f in base.facts if f.country == country), key=lambda f: f.id)
        if facts:
            files[f"{FACTS_DIR}/{country}.yaml"] = _dump([f.to_dict() for f in facts])
    return files


def write_folder(base: KnowledgeBase, folder: Path) -> list[Path]:
    written = []
    for name, text in render_files(base).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
