"""The admin service over a real SQLite store: roles, changes with revisions, conflicts, undo,
the unanswered list, stats and the one-transaction import — all without Telegram."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.admin import AdminService, NotAllowed, NotFound
from bot.domain.curation import Draft, Rules
from bot.domain.knowledge import KnowledgeError
from bot.domain.models import Fact, Source
from bot.domain.transfer import UploadError
from bot.service import FactService
from bot.storage.store import ConflictError

OWNER, EDITOR, STRANGER = 11, 22, 33
FACT = "ir-30th-anniversary"
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
async def service(
    tmp_path: Path, knowledge_dir: Path, sources_dir: Path
) -> AsyncIterator[FactService]:
    opened = await FactService.open(tmp_path / "t.sqlite3", knowledge_dir, sources_dir)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def admin(service: FactService) -> AdminService:
    desk = AdminService(service, frozenset({OWNER}))
    assert await desk.grant(OWNER, EDITOR) == "added"
    return desk


def dump(path: str) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(path)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


def new_fact(admin: AdminService) -> Fact:
    rules: Rules = admin.rules()
    base = admin.service.fact(FACT)
    assert base is not None
    draft = Draft(
        country="iran",
        topic="economy",
        date="2023",
        answer={"en": "Zebra cooperation with Iran is new.", "ru": "Сотрудничество «зебра» ново."},
        questions={
            "en": ["What is zebra cooperation?", "zebra cooperation iran", "Tell me about zebras"],
            "ru": ["Что такое зебра?", "зебра иран"],
        },
        keywords=["zebra"],
        sources=list(base.sources),
        evidence=list(base.evidence),
    )
    fact, errors = draft.build(rules, admin.taken_ids())
    assert errors == []
    assert fact is not None
    return fact


async def test_roles_owner_editor_and_everyone_else(admin: AdminService) -> None:
    assert await admin.role(OWNER) == "owner"
    assert await admin.role(EDITOR) == "editor"
    assert await admin.role(STRANGER) is None
    assert await admin.grant(OWNER, OWNER) == "owner"
    assert await admin.grant(OWNER, EDITOR) == "already"
    with pytest.raises(NotAllowed):
        await admin.grant(EDITOR, STRANGER)  # editors cannot manage admins
    assert [e.user_id for e in await admin.editors(OWNER)] == [EDITOR]
    assert await admin.revoke(OWNER, EDITOR) == "removed"
    assert await admin.role(EDITOR) is None
    assert await admin.revoke(OWNER, EDITOR) == "absent"


async def test_every_action_refuses_a_stranger_and_changes_nothing(
    admin: AdminService, service: FactService
) -> None:
    before = dump(service.store.path)
    fact = new_fact(admin)
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: admin.create(STRANGER, fact),
        lambda: admin.update(STRANGER, fact, 1),
        lambda: admin.retire(STRANGER, FACT, 1),
        lambda: admin.restore(STRANGER, FACT),
        lambda: admin.undo(STRANGER, FACT),
        lambda: admin.history(STRANGER, FACT),
        lambda: admin.find(STRANGER, "iran"),
        lambda: admin.add_phrasing(STRANGER, FACT, "q?", "en"),
        lambda: admin.missed(STRANGER, NOW),
        lambda: admin.ignore(STRANGER, "q"),
        lambda: admin.set_daily(STRANGER, True),
        lambda: admin.set_daily(EDITOR, True),
        lambda: admin.stats(STRANGER, NOW),
        lambda: admin.export(STRANGER, NOW),
        lambda: admin.plan_import(STRANGER, "x.yaml", b"[]"),
        lambda: admin.editors(EDITOR),
        lambda: admin.grant(STRANGER, STRANGER),
        lambda: admin.revoke(EDITOR, EDITOR),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            await attempt()
    assert dump(service.store.path) == before


async def test_a_new_fact_is_answerable_at_once_with_its_revision(
    admin: AdminService, service: FactService
) -> None:
    fact = new_fact(admin)
    assert service.ask("What is zebra cooperation?").fact is None
    stored = await admin.create(EDITOR, fact)
    assert stored.version == 1
    reply = service.ask("What is zebra cooperation?")
    assert reply.fact is not None
    assert reply.fact.id == fact.id
    [revision] = await admin.history(OWNER, fact.id)
    assert (revision.action, revision.actor, revision.before) == ("add", f"tg:{EDITOR}", None)
    with pytest.raises(ConflictError):
        await admin.create(EDITOR, fact)  # the same id again


async def test_a_new_source_is_saved_with_the_fact(
    admin: AdminService, service: FactService
) -> None:
    source = Source("zz-2024-new", "New", "Outlet", "not named", "2024")
    fact = new_fact(admin)
    fact = fact.with_changes(
        sources=(source.id,), evidence=(fact.evidence[0].__class__(source.id, "q"),)
    )
    await admin.create(OWNER, fact, source)
    assert service.sources[source.id] == source
    assert source in await service.store.sources()
    assert admin.unverified(fact) == 1


async def test_concurrent_edits_the_second_is_refused(
    admin: AdminService, service: FactService
) -> None:
    stored = await admin.current(OWNER, FACT)
    first = stored.fact.with_changes(answer={**stored.fact.answer, "en": "First edit."})
    second = stored.fact.with_changes(answer={**stored.fact.answer, "en": "Second edit."})
    await admin.update(OWNER, first, stored.version)
    with pytest.raises(ConflictError) as caught:
        await admin.update(EDITOR, second, stored.version)
    assert caught.value.current.fact.answer["en"] == "First edit."
    assert service.fact(FACT) == first


async def test_retire_restore_and_undo(admin: AdminService, service: FactService) -> None:
    question = service.fact(FACT)
    assert question is not None
    phrasing = question.questions["en"][0]
    stored = await admin.current(OWNER, FACT)
    await admin.retire(EDITOR, FACT, stored.version)
    answered = service.ask(phrasing).fact
    assert answered is None or answered.id != FACT
    assert await admin.restore(EDITOR, FACT) is not None
    assert await admin.restore(EDITOR, FACT) is None  # not retired any more
    undone = await admin.undo(OWNER, FACT)
    assert undone is not None
    revision, result = undone
    assert revision.action == "restore"
    assert result.fact.retired
    actions = [r.action for r in await admin.history(OWNER, FACT)]
    assert actions[:3] == ["undo", "restore", "retire"]
    with pytest.raises(NotFound):
        await admin.undo(OWNER, "no-such-fact")


async def test_undo_of_a_fresh_fact_has_nothing_to_revert(admin: AdminService) -> None:
    fact = new_fact(admin)
    await admin.create(OWNER, fact)
    assert await admin.undo(OWNER, fact.id) is None


async def test_retire_checks_the_version_seen(admin: AdminService) -> None:
    with pytest.raises(ConflictError):
        await admin.retire(OWNER, FACT, 99)


async def test_unanswered_questions_phrasings_and_ignore(
    admin: AdminService, service: FactService
) -> None:
    store = service.store
    for text in ("Who is the zebra?", "who is the zebra", "Pizza?"):
        await store.log_query(text, "en", "declined", None, 0.1)
    await store.log_query(
        "Old question", "en", "declined", None, 0.1, at="2000-01-01T00:00:00+00:00"
    )
    await store.log_query("Answered", "en", "answered", FACT, 0.9)
    missed = await admin.missed(EDITOR, NOW + dt.timedelta(seconds=5))
    assert [(m.question, m.count) for m in missed] == [("Who is the zebra?", 2), ("Pizza?", 1)]
    assert await admin.ignore(EDITOR, "pizza")
    assert [m.question for m in await admin.missed(EDITOR, NOW)] == ["Who is the zebra?"]
    added = await admin.add_phrasing(EDITOR, FACT, "Who is the zebra?", "en")
    assert added is not None
    assert "Who is the zebra?" in added.fact.questions["en"]
    assert await admin.add_phrasing(EDITOR, FACT, "Who is the zebra?", "en") is None
    await admin.set_daily(OWNER, True)
    assert await admin.daily_recipients() == [OWNER]
    await admin.set_daily(OWNER, False)
    assert await admin.daily_recipients() == []


async def test_stats_over_seven_and_thirty_days(admin: AdminService, service: FactService) -> None:
    store = service.store
    first = await store.log_query("a", "en", "answered", FACT, 0.9)
    await store.log_query("b", "en", "answered", FACT, 0.9)
    await store.log_query("c", "en", "declined", None, 0.1)
    old = (NOW - dt.timedelta(days=20)).isoformat(timespec="seconds")
    await store.log_query("d", "en", "suggested", None, 0.5, at=old)
    await store.set_feedback(first, 1)
    await store.subscribe(5)
    stats = await admin.stats(EDITOR, NOW + dt.timedelta(seconds=5))
    week, month = stats.windows[7], stats.windows[30]
    assert (week.asked, week.answered, week.declined, week.thumbs_up) == (3, 2, 1, 1)
    assert (month.asked, month.suggested) == (4, 1)
    assert week.top_facts == ((FACT, 2),)
    assert stats.subscribers == 1
    assert stats.last_digest is None
    assert await store.create_digest("2026-W09", [FACT], "text")
    await store.add_deliveries("2026-W09", [5, 6])
    assert await store.mark_sending("2026-W09", [5])
    assert await store.mark_sent("2026-W09", [5])
    digest = (await admin.stats(EDITOR, NOW)).last_digest
    assert digest is not None
    assert (digest.id, digest.counts) == ("2026-W09", {"pending": 1, "sent": 1})
    assert stats.unverified == 0
    assert stats.live == len(service.facts())


def export_with(data: bytes, change: Callable[[list[dict[str, Any]]], None]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            body = source.read(name).decode()
            if name == "knowledge/facts/iran.yaml":
                facts = yaml.safe_load(body)
                change(facts)
                body = yaml.safe_dump(facts, allow_unicode=True, sort_keys=False)
            target.writestr(name, body)
    return out.getvalue()


async def test_import_applies_in_one_transaction(
    admin: AdminService, service: FactService
) -> None:
    _, data = await admin.export(OWNER, NOW)

    def change(facts: list[dict[str, Any]]) -> None:
        facts[0]["answer"]["en"] = "Imported answer."
        del facts[1]

    plan = await admin.plan_import(OWNER, "k.zip", export_with(data, change))
    assert (len(plan.added), len(plan.changed), len(plan.retired)) == (0, 1, 1)
    await admin.apply_import(EDITOR, plan)
    changed, retired = plan.changed[0], plan.retired[0]
    live = service.fact(changed.id)
    assert live is not None
    assert live.answer["en"] == "Imported answer."
    gone = service.fact(retired.id)
    assert gone is not None
    assert gone.retired
    [revision] = await admin.history(OWNER, changed.id, limit=1)
    assert (revision.action, revision.actor) == ("import", f"tg:{EDITOR}")


async def test_import_refused_as_a_whole_when_a_fact_changed_meanwhile(
    admin: AdminService, service: FactService
) -> None:
    _, data = await admin.export(OWNER, NOW)

    def change(facts: list[dict[str, Any]]) -> None:
        facts[0]["answer"]["en"] = "Imported answer."
        facts[1]["answer"]["en"] = "Another imported answer."

    plan = await admin.plan_import(OWNER, "k.zip", export_with(data, change))
    target = plan.changed[1]
    stored = await admin.current(OWNER, target.id)
    await admin.update(OWNER, stored.fact.with_changes(keywords=("x",)), stored.version)
    before = dump(service.store.path)
    with pytest.raises(ConflictError):
        await admin.apply_import(EDITOR, plan)
    assert dump(service.store.path) == before


async def test_bad_uploads_change_nothing(admin: AdminService, service: FactService) -> None:
    before = dump(service.store.path)
    with pytest.raises(UploadError):
        await admin.plan_import(OWNER, "k.zip", b"PK\x03\x04junk")
    with pytest.raises(KnowledgeError):
        await admin.plan_import(OWNER, "iran.yaml", b"- id: Bad Id\n  country: iran\n")
    assert dump(service.store.path) == before
