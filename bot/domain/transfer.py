"""The fact base as a file an admin can download (/export) and upload again (/import).

An upload is untrusted: it is size-checked, a zip is opened without ever writing to disk or
trusting its names or declared sizes (no absolute paths, no `..`, no zip bombs), and its fact
files go through `parse_knowledge`, the validator behind `tiesbot knowledge check`. What the
upload would change is worked out here as a plan; the store applies a plan in one transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bot.domain.evidence import SourceTexts
from bot.domain.knowledge import (
    FACTS_DIR,
    SOURCES_FILE,
    KnowledgeBase,
    parse_knowledge,
    render_files,
)
from bot.domain.models import COUNTRIES, Fact, Source

MAX_UPLOAD_BYTES = 1_000_000
MAX_UNPACKED_BYTES = 5_000_000
MAX_ENTRIES = 64
MAX_RATIO = 100  # uncompressed / compressed; real YAML compresses about 4:1
ZIP_FOLDER = "knowledge"


class UploadError(Exception):
    """The upload cannot be read as fact files; the message says why, politely."""


def export_zip(base: KnowledgeBase, when: dt.datetime) -> bytes:
    """A zip of the `knowledge/` files as `tiesbot knowledge export` writes them."""
    buffer = io.BytesIO()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in render_files(base).items():
            info = zipfile.ZipInfo(f"{ZIP_FOLDER}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def export_name(when: dt.datetime) -> str:
    """The file name of an export made at `when`."""
    return f"tiesbot-knowledge-{when:%Y%m%d-%H%M}.zip"


@dataclass(frozen=True)
class Upload:
    """Fact files read from an upload, as {relative path: text}.

    `complete` lists the countries whose whole file came in a zip: facts of those countries
    that the file no longer lists are retired. A single YAML file only adds or changes.
    """

    files: dict[str, str]
    complete: frozenset[str] = frozenset()
    ignored: tuple[str, ...] = ()


def read_upload(filename: str, data: bytes) -> Upload:
    """Read an uploaded .zip (an /export) or a single .yaml fact file; UploadError if unsafe."""
    name = PurePosixPath(filename.replace("\\", "/")).name or "upload"
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"file: {len(data):,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit")
    lower = name.lower()
    if lower.endswith(".zip") or data[:4] == b"PK\x03\x04":
        return _read_zip(data)
    if lower.endswith((".yaml", ".yml")):
        stem = name.rsplit(".", 1)[0].lower()
        target = f"{FACTS_DIR}/{stem if stem in COUNTRIES else 'upload'}.yaml"
        return Upload({target: _decode(name, data)})
    raise UploadError("file: send a .zip made by /export or a single .yaml fact file")


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"{name}: not UTF-8 text (byte {exc.start})") from exc


def _safe_path(name: str) -> str:
    """The entry's path inside the knowledge folder; UploadError for anything pointing out."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UploadError(f"zip: entry '{name[:80]}' has an absolute or Windows path")
    parts = PurePosixPath(name).parts
    if any(p in ("..", "") for p in parts):
        raise UploadError(f"zip: entry '{name[:80]}' points outside the folder")
    if parts and parts[0] == ZIP_FOLDER:
        parts = parts[1:]
    return "/".join(parts)


def _read_zip(data: bytes) -> Upload:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UploadError("zip: the file is not a readable zip archive") from exc
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if len(entries) > MAX_ENTRIES:
            raise UploadError(f"zip: {len(entries)} files, over the {MAX_ENTRIES}-file limit")
        declared = sum(i.file_size for i in entries)
        if declared > MAX_UNPACKED_BYTES:
            raise UploadError(
                f"zip: unpacks to {declared:,} bytes, over the {MAX_UNPACKED_BYTES:,}-byte limit"
            )
        files: dict[str, str] = {}
        ignored: list[str] = []
        total = 0
        for info in entries:
            path = _safe_path(info.filename)
            if info.flag_bits & 0x1:
                raise UploadError(f"zip: '{path}' is encrypted")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise UploadError(f"zip: '{path}' is compressed suspiciously well (a zip bomb?)")
            if not _wanted(path):
                ignored.append(path)
                continue
            with archive.open(info) as handle:
                # Declared sizes can lie; never read more than the limit allows.
                body = handle.read(MAX_UNPACKED_BYTES - total + 1)
            total += len(body)
            if total > MAX_UNPACKED_BYTES:
                raise UploadError(f"zip: unpacks to over the {MAX_UNPACKED_BYTES:,}-byte limit")
            if path in files:
                raise UploadError(f"zip: '{path}' appears twice")
            files[path] = _decode(path, body)
    complete = frozenset(
        stem
        for path in files
        if (stem := PurePosixPath(path).stem) in COUNTRIES and path.startswith(f"{FACTS_DIR}/")
    )
    return Upload(files, complete, tuple(ignored))


def _wanted(path: str) -> bool:
    pure = PurePosixPath(path)
    if path == SOURCES_FILE:
        return True
    return len(pure.parts) == 2 and pure.parts[0] == FACTS_DIR and pure.suffix == ".yaml"


@dataclass
class ImportPlan:
    """What an upload would change, worked out before anything is written.

    `versions` remembers each touched fact's version at planning time, so applying the plan
    refuses (and changes nothing) when an admin changed one of them in between.
    """

    added: list[Fact] = field(default_factory=list)
    changed: list[Fact] = field(default_factory=list)
    retired: list[Fact] = field(default_factory=list)
    unchanged: int = 0
    sources: list[Source] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()

    @property
    def writes(self) -> list[Fact]:
        return [*self.added, *self.changed, *self.retired]

    @property
    def empty(self) -> bool:
        return not (self.writes or self.sources)


def plan_import(
    upload: Upload,
    current: Mapping[str, Fact],
    versions: Mapping[str, int],
    sources: Mapping[str, Source],
    texts: SourceTexts,
) -> ImportPlan:
    """Validate the upload against the fact base; KnowledgeError lists every problem."""
    base = parse_knowledge(upload.files, texts, extra_sources=sources.values())
    plan = ImportPlan(ignored=upload.ignored)
    for source in base.sources:
        if sources.get(source.id) != source:
            plan.sources.append(source)
    listed = {f.id for f in base.facts}
    for fact in base.facts:
        old = current.get(fact.id)
        if old is None:
            plan.added.append(fact)
        elif old.to_dict() == fact.to_dict():
            plan.unchanged += 1
        elif fact.retired and not old.retired:
            plan.retired.append(fact)
        else:
            plan.changed.append(fact)
    for fact in current.values():
        if fact.country in upload.complete and fact.id not in listed and not fact.retired:
            plan.retired.append(fact.with_changes(retired=True))
    for fact in plan.changed + plan.retired:
        plan.versions[fact.id] = versions[fact.id]
    return plan
