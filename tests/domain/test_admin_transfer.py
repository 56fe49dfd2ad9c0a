"""/export and /import without Telegram: the zip round trip, unsafe uploads, the import plan."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

import pytest
import yaml

from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import KnowledgeBase, KnowledgeError
from bot.domain.models import Fact
from bot.domain.transfer import (
    MAX_UPLOAD_BYTES,
    ImportPlan,
    UploadError,
    export_zip,
    plan_import,
    read_upload,
)

WHEN = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def zipped(entries: dict[str, bytes | str], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def plan(
    base: KnowledgeBase, texts: SourceTexts, name: str, data: bytes, current: list[Fact]
) -> ImportPlan:
    return plan_import(
        read_upload(name, data),
        {f.id: f for f in current},
        {f.id: 1 for f in current},
        {s.id: s for s in base.sources},
        texts,
    )


@pytest.fixture(scope="module")
def texts(sources_dir: Path) -> SourceTexts:
    return SourceTexts.from_dir(sources_dir)


def test_an_export_reimports_unchanged(knowledge_base: KnowledgeBase, texts: SourceTexts) -> None:
    data = export_zip(knowledge_base, WHEN)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "knowledge/sources.yaml" in names
    assert "knowledge/facts/iran.yaml" in names
    result = plan(knowledge_base, texts, "export.zip", data, list(knowledge_base.facts))
    assert result.empty
    assert result.unchanged == len(knowledge_base.facts)
    assert export_zip(knowledge_base, WHEN) == data  # deterministic


def test_a_country_file_in_a_zip_is_complete_so_missing_facts_retire(
    knowledge_base: KnowledgeBase, texts: SourceTexts
) -> None:
    iran = [f for f in knowledge_base.facts if f.country == "iran"]
    kept = [f.to_dict() for f in iran[1:]]
    kept[0]["answer"]["en"] = "Changed answer."
    new = dict(kept[1], id="ir-brand-new")
    body = yaml.safe_dump([*kept, new], allow_unicode=True)
    result = plan(
        knowledge_base,
        texts,
        "k.zip",
        zipped({"facts/iran.yaml": body}),
        list(knowledge_base.facts),
    )
    assert [f.id for f in result.added] == ["ir-brand-new"]
    assert [f.id for f in result.changed] == [iran[1].id]
    assert [f.id for f in result.retired] == [iran[0].id]
    assert result.retired[0].retired
    assert result.versions == {iran[1].id: 1, iran[0].id: 1}


def test_a_single_yaml_file_only_adds_or_changes(
    knowledge_base: KnowledgeBase, texts: SourceTexts
) -> None:
    fact = knowledge_base.facts[0].to_dict()
    fact["id"] = "az-one-more"
    data = yaml.safe_dump([fact], allow_unicode=True).encode()
    result = plan(knowledge_base, texts, "mine.yaml", data, list(knowledge_base.facts))
    assert [f.id for f in result.added] == ["az-one-more"]
    assert not result.retired
    assert not result.changed


def test_invalid_facts_are_reported_with_file_and_line(
    knowledge_base: KnowledgeBase, texts: SourceTexts
) -> None:
    fact = knowledge_base.facts[0].to_dict()
    fact["evidence"][0]["quote"] = "Words the article never printed."
    data = yaml.safe_dump([fact], allow_unicode=True).encode()
    with pytest.raises(KnowledgeError) as caught:
        plan(knowledge_base, texts, "bad.yaml", data, list(knowledge_base.facts))
    problem = caught.value.problems[0]
    assert problem.file == "facts/upload.yaml"
    assert problem.line > 1
    assert "closest passage" in problem.message


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.yaml", b"x" * (MAX_UPLOAD_BYTES + 1), "over the 1,000,000-byte limit"),
        ("notes.txt", b"hello", "send a .zip made by /export or a single .yaml fact file"),
        ("bad.zip", b"PK\x03\x04 not really", "not a readable zip archive"),
        ("latin1.yaml", "café".encode("latin-1"), "not UTF-8 text"),
        ("up.zip", zipped({"../../etc/facts.yaml": "[]"}), "points outside the folder"),
        ("up.zip", zipped({"/abs/facts/iran.yaml": "[]"}), "absolute or Windows path"),
        ("up.zip", zipped({"facts\\iran.yaml": "[]"}), "absolute or Windows path"),
        ("bomb.zip", zipped({"facts/iran.yaml": "#" * 4_000_000}), "a zip bomb"),
        ("many.zip", zipped({f"facts/f{i}.yaml": "[]" for i in range(70)}), "70 files"),
        (
            "huge.zip",
            zipped({"facts/a.yaml": "#" * 6_000_000}, zipfile.ZIP_STORED),
            "over the 1,000,000-byte limit",
        ),
    ],
)
def test_unsafe_uploads_are_refused_politely(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UploadError, match=message.replace(".", r"\.").replace("(", r"\(")):
        read_upload(name, data)


def test_many_small_entries_that_unpack_too_far_are_refused() -> None:
    # 18 entries of 300 kB of text that compresses like prose (about 6:1): 5.4 MB in all.
    pick = random.Random(1).choice
    words = "alpha beta gamma delta iran minsk baku trade visit tank oil gas road deal".split()
    body = " ".join(pick(words) for _ in range(60_000))[:300_000]
    data = zipped({f"facts/f{i}.yaml": body for i in range(18)})
    assert len(data) < MAX_UPLOAD_BYTES
    with pytest.raises(UploadError, match="over the 5,000,000-byte limit"):
        read_upload("z.zip", data)


def test_other_files_in_the_folder_are_ignored_not_read() -> None:
    upload = read_upload(
        "k.zip", zipped({"knowledge/README.md": "# hi", "knowledge/facts/iran.yaml": "[]"})
    )
    assert upload.files == {"facts/iran.yaml": "[]"}
    assert upload.ignored == ("README.md",)
    assert upload.complete == frozenset({"iran"})
