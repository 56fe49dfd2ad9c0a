"""The console chat drives the real Application: typed lines and numbered buttons."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.tg.console import plain_text, run_console
from tests.tg.conftest import ARTICLES, KNOWLEDGE


async def chat(monkeypatch: pytest.MonkeyPatch, database: Path, lines: list[str]) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    out = io.StringIO()
    settings = Settings(database_path=database, knowledge_dir=KNOWLEDGE, sources_dir=ARTICLES)
    assert await run_console(settings, out) == 0
    return out.getvalue()


async def test_questions_buttons_and_commands_work_in_the_console(
    monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    output = await chat(
        monkeypatch,
        database,
        ["When did Lukashenka visit Iran?", "4", "/lang ru", "/topics", "2", "99", "/sources"],
    )
    assert "@BotFather" in output
    assert "Lukashenka paid an official visit to Iran" in output
    assert "[4] 📄 What the article says" in output
    assert "(the bot edited its message)" in output
    assert "  │ On March 12 and 13" in output, "the quote shows after pressing 4"
    assert "Готово: в этом чате я отвечаю по-русски." in output
    assert "🇮🇷 Иран" in output
    assert "Выберите тему" in output
    assert "(there is no button 99" in output
    assert "📰 Источники" in output
    assert output.rstrip().endswith("Bye.")


def test_plain_text_shows_links_and_quotes() -> None:
    assert plain_text('<a href="https://a.org/x?a=1&amp;b=2">https://a.org/x?a=1&amp;b=2</a>') == (
        "https://a.org/x?a=1&b=2"
    )
    assert plain_text('<a href="https://a.org">the article</a>') == "the article (https://a.org)"
    assert plain_text("<blockquote>a\nb</blockquote> &lt;ok&gt;") == "  │ a\n  │ b <ok>"
