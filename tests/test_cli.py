"""The real entry point, run as users run it: `python -m bot …` in a subprocess, offline."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
TANKS = "How many T-72 tanks did Azerbaijan buy from Belarus?"
SETTINGS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "ADMIN_IDS",
    "KNOWLEDGE_DIR",
    "SOURCES_DIR",
    "DIGEST_CHANNEL_ID",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "LOG_LEVEL",
)


class Cli:
    """Runs `python -m bot` from the project root with its database in tmp_path."""

    def __init__(self, tmp_path: Path) -> None:
        self.database = tmp_path / "data" / "tiesbot.sqlite3"
        self.env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
        self.env["DATABASE_PATH"] = str(self.database)
        self.env_file = tmp_path / "missing.env"

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "--env-file", str(self.env_file), *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    def facts_table(self) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.database)) as conn:
            return conn.execute("SELECT * FROM facts ORDER BY id").fetchall()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def copy_knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target, ignore=shutil.ignore_patterns("articles", "README.md"))
    return target


def fact_files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*.yaml"))
        if "articles" not in p.parts
    }


def edit_in_database(database: Path, fact_id: str, text: str) -> None:
    """What an admin's /edit does: a new version of the fact through the Store API."""

    async def edit() -> None:
        store = await Store.open(database)
        try:
            current = await store.get(fact_id)
            assert current is not None
            changed = current.fact.with_changes(answer={**current.fact.answer, "en": text})
            await store.save_fact(changed, "admin:1", "edit", current.version)
        finally:
            await store.close()

    asyncio.run(edit())


# -- ask -----------------------------------------------------------------------------------


def test_ask_prints_a_cited_answer(cli: Cli) -> None:
    result = cli("ask", TANKS)
    assert result.returncode == 0, result.stderr
    assert "153 T-72 tanks" in result.stdout
    assert "As of 2024." in result.stdout
    assert result.stdout.rstrip().endswith(
        "Source: “Belarus Promotes Economic Interests in Azerbaijan”, Eurasia Daily Monitor"
        " (Jamestown Foundation), Volume 21, Issue 84, 2024"
    )
    assert cli.database.is_file(), "the database is created and filled on first use"


def test_ask_in_russian_answers_in_russian(cli: Cli) -> None:
    result = cli("ask", "Сколько танков Т-72 Азербайджан купил у Беларуси?")
    assert result.returncode == 0, result.stderr
    assert "153 танка Т-72" in result.stdout
    assert "По состоянию на 2024. Источник:" in result.stdout


def test_ask_declines_an_off_topic_question(cli: Cli) -> None:
    result = cli("ask", "How do I bake a chocolate cake?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "I don't know: the fact base has no answer to that."


def test_ask_json_prints_one_object(cli: Cli) -> None:
    result = cli("ask", "--json", TANKS)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    reply = json.loads(lines[0])
    assert reply["answered"] is True
    assert reply["fact_id"] == "az-arms-t72-tanks"
    assert "153 T-72 tanks" in reply["answer"]
    assert isinstance(reply["score"], float)
    assert reply["score"] > 0.5
    assert [s["title"] for s in reply["sources"]] == [
        "Belarus Promotes Economic Interests in Azerbaijan"
    ]
    assert reply["evidence"]
    for item in reply["evidence"]:
        assert set(item) == {"quote", "source"}
        assert item["source"] == "edm-2024-belarus-azerbaijan"
    assert any("153 T-72 tanks" in e["quote"] for e in reply["evidence"])
    assert reply["suggestions"] == []


def test_ask_json_from_stdin_gives_one_line_per_question_in_order(cli: Cli) -> None:
    questions = [
        TANKS,
        "",
        "Когда Лукашенко посетил Иран?",
        "Hello!",
        "When did Lukashenka visit Iran?",
    ]
    result = cli("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in replies] == questions
    tanks, empty, russian, hello, english = replies
    assert tanks["fact_id"] == "az-arms-t72-tanks"
    assert empty["answered"] is False
    assert empty["answer"] is None
    assert "type a question" in empty["error"]
    assert russian["answered"] is True
    assert russian["lang"] == "ru"
    assert "Лукашенко" in russian["answer"]
    assert hello["answered"] is False
    assert "evidence" not in hello
    assert english["fact_id"] == russian["fact_id"]


def test_ask_empty_question_fails_with_a_clear_message(cli: Cli) -> None:
    for question in ("", "   "):
        result = cli("ask", question)
        assert result.returncode != 0
        assert "Please type a question" in result.stderr
        assert result.stdout == ""


def test_ask_handles_a_10000_character_question(cli: Cli) -> None:
    result = cli("ask", "--json", "When did Lukashenka visit Iran? " + "ы" * 10_000)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert isinstance(reply["answered"], bool)


# -- knowledge check -----------------------------------------------------------------------


def test_knowledge_check_passes_on_the_real_files(cli: Cli) -> None:
    result = cli("knowledge", "check", str(KNOWLEDGE), "--sources", str(KNOWLEDGE / "articles"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("all valid")
    assert " facts, 3 sources" in result.stdout


def test_knowledge_check_fails_with_file_and_line(cli: Cli, tmp_path: Path) -> None:
    folder = copy_knowledge(tmp_path)
    iran = folder / "facts" / "iran.yaml"
    lines = iran.read_text(encoding="utf-8").splitlines(keepends=True)
    topic = next(i for i, line in enumerate(lines) if line.startswith("  topic: "))
    lines[topic] = "  topic: gossip\n"
    quote = next(i for i, line in enumerate(lines) if line.startswith("    quote: "))
    lines[quote] = "    quote: Words the article never printed\n"
    iran.write_text("".join(lines), encoding="utf-8")

    result = cli("knowledge", "check", str(folder), "--sources", str(KNOWLEDGE / "articles"))

    assert result.returncode == 1
    problems = result.stderr.splitlines()
    assert problems[0].startswith(f"facts/iran.yaml:{topic + 1}: topic: must be one of ")
    assert problems[1].startswith(f"facts/iran.yaml:{quote}: evidence[1].quote: fact '")
    assert "closest passage: «" in problems[1]
    assert problems[-1] == f"2 problem(s) in {folder}"
    assert result.stdout == ""


def test_knowledge_check_reports_a_yaml_error(cli: Cli, tmp_path: Path) -> None:
    folder = copy_knowledge(tmp_path)
    path = folder / "facts" / "belarus.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "- id: [broken\n", encoding="utf-8")
    result = cli("knowledge", "check", str(folder), "--sources", str(KNOWLEDGE / "articles"))
    assert result.returncode == 1
    assert "facts/belarus.yaml:" in result.stderr
    assert "YAML error" in result.stderr


# -- knowledge load / export ---------------------------------------------------------------


def test_load_then_export_reproduces_the_files_byte_for_byte(cli: Cli, tmp_path: Path) -> None:
    load = cli("knowledge", "load", str(KNOWLEDGE))
    assert load.returncode == 0, load.stderr
    assert load.stdout.startswith("added ")
    assert ", conflicts 0" in load.stdout
    again = cli("knowledge", "load", str(KNOWLEDGE))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("added 0, updated 0, unchanged ")

    out = tmp_path / "exported"
    export = cli("knowledge", "export", str(out))
    assert export.returncode == 0, export.stderr
    assert fact_files(out) == fact_files(KNOWLEDGE)
    assert len(export.stdout.splitlines()) == len(fact_files(KNOWLEDGE))


def test_load_of_a_broken_copy_fails_and_leaves_the_database_as_it_was(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli("knowledge", "load", str(KNOWLEDGE)).returncode == 0
    before = cli.facts_table()
    folder = copy_knowledge(tmp_path)
    path = folder / "facts" / "azerbaijan.yaml"
    text = path.read_text(encoding="utf-8")
    # One valid change that must not slip in, and one broken fact further down.
    assert "bought 153 T-72 tanks" in text
    text = text.replace("bought 153 T-72 tanks", "bought 154 T-72 tanks", 1)
    lines = text.splitlines(keepends=True)
    country = max(i for i, line in enumerate(lines) if line.startswith("  country: "))
    lines[country] = "  country: atlantis\n"
    path.write_text("".join(lines), encoding="utf-8")

    result = cli("knowledge", "load", str(folder))

    assert result.returncode == 1
    assert f"facts/azerbaijan.yaml:{country + 1}: country: must be one of" in result.stderr
    assert "nothing was imported" in result.stderr
    assert cli.facts_table() == before


def test_load_reports_a_conflict_with_an_admin_change_and_overwrite_replaces_it(
    cli: Cli,
) -> None:
    assert cli("knowledge", "load", str(KNOWLEDGE)).returncode == 0
    edit_in_database(cli.database, "az-arms-t72-tanks", "Corrected by an admin.")
    files_before = fact_files(KNOWLEDGE)
    table_before = cli.facts_table()

    result = cli("knowledge", "load", str(KNOWLEDGE))

    assert result.returncode == 3
    assert ", conflicts 1" in result.stdout
    assert (
        "conflict: az-arms-t72-tanks was changed in the database by an admin since the last"
        " import; both sides left as they are (use --overwrite to replace)"
    ) in result.stdout
    assert cli.facts_table() == table_before
    assert fact_files(KNOWLEDGE) == files_before
    ask = cli("ask", "--json", TANKS)
    assert json.loads(ask.stdout)["answer"].startswith("Corrected by an admin.")

    overwrite = cli("knowledge", "load", str(KNOWLEDGE), "--overwrite")

    assert overwrite.returncode == 0, overwrite.stderr
    assert overwrite.stdout.startswith("added 0, updated 1, ")
    assert ", conflicts 0" in overwrite.stdout
    ask = cli("ask", "--json", TANKS)
    assert "153 T-72 tanks" in json.loads(ask.stdout)["answer"]
