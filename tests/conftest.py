"""Fixtures shared by the test layers: the real fact base and the article texts it quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import KnowledgeBase, load_folder
from bot.domain.matcher import Matcher

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def knowledge_dir() -> Path:
    """The project's own fact files."""
    return ROOT / "knowledge"


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    """The article texts: ../shared/sources beside the repository, else the copies."""
    shared = ROOT.parent / "shared" / "sources"
    return shared if shared.is_dir() else ROOT / "knowledge" / "articles"


@pytest.fixture(scope="session")
def knowledge_base(knowledge_dir: Path, sources_dir: Path) -> KnowledgeBase:
    """The real fact base, validated with its quotes checked against the articles."""
    return load_folder(knowledge_dir, SourceTexts.from_dir(sources_dir))


@pytest.fixture(scope="session")
def matcher(knowledge_base: KnowledgeBase) -> Matcher:
    """An index over the real facts; read-only (tests that change an index build their own)."""
    return Matcher(f for f in knowledge_base.facts if not f.retired)
