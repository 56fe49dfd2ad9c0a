"""/unanswered (with its buttons and the daily summary), /stats, /export, /import and /admins
end to end through the fake Bot API."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import yaml

from bot.domain.transfer import MAX_UPLOAD_BYTES
from bot.tg.handlers.admin_missed import DAILY_JOB
from bot.tg.render import label
from bot.tg.texts import ADMIN
from tests.fakebot import FakeBotApi, FakeUser, StoredMessage
from tests.tg.admin_helpers import (
    EDITOR_ID,
    FACT_ID,
    dump,
    editor,
    owner,
    press,
    stranger,
    texts_of,
)
from tests.tg.conftest import Harness

OFF_TOPIC = "Who won the zebra derby in Gomel?"


async def missed_list(bot: Harness, user: FakeUser) -> StoredMessage:
    replies = await bot.say(user, "/unanswered")
    assert len(replies) == 1
    return replies[0]


async def test_unanswered_lists_declined_questions_with_buttons(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga, alice = owner(fake), stranger(fake)
    for text in (OFF_TOPIC, OFF_TOPIC.lower(), "Pizza recipes?"):
        await bot.ask(alice, text)
    listing = await missed_list(bot, olga)
    assert listing.text is not None
    assert f"1. «{OFF_TOPIC}» — declined × 2" in listing.text
    assert "2. «Pizza recipes?» — declined × 1" in listing.text
    labels = [b["text"] for b in listing.buttons]
    assert "📝 1 new fact" in labels
    assert "🙈 2 ignore" in labels
    replies = await press(bot, olga, "🙈 2 ignore")
    assert "will no longer be listed" in texts_of(replies)
    assert "🙈 2 ignore" not in [b["text"] for b in listing.buttons]  # its row is gone
    listing = await missed_list(bot, olga)
    assert "Pizza" not in (listing.text or "")


async def test_unanswered_question_becomes_a_phrasing(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    question = next(
        q
        for q in ("Belarus Iran", "Belarus", "Iran", "Azerbaijan", "Belarus Azerbaijan")
        if bot.service.ask(q).match.outcome == "suggested"
    )
    await bot.ask(alice, question)
    listing = await missed_list(bot, olga)
    assert f"1. «{question}» — did-you-mean × 1" in (listing.text or "")
    candidate = bot.service.search(question, limit=1)[0]
    replies = await press(bot, olga, label(f"➕ 1 → {candidate.id}", 40))
    assert f"is now a phrasing of {candidate.id}" in texts_of(replies)
    updated = bot.service.fact(candidate.id)
    assert updated is not None
    assert question in updated.questions["en"]
    [revision, *_] = await bot.service.store.revisions(candidate.id)
    assert (revision.action, revision.actor) == ("phrasing", f"tg:{olga.id}")
    assert bot.service.search(question, limit=1)[0].id == candidate.id


async def test_unanswered_question_drafts_a_new_fact(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    await bot.ask(alice, OFF_TOPIC)
    await missed_list(bot, olga)
    replies = await press(bot, olga, "📝 1 new fact")
    text = texts_of(replies)
    assert f"New fact for the question «{OFF_TOPIC}»" in text
    assert "Step 1 of 11" in text
    await press(bot, olga, "🇮🇷 Iran")
    await press(bot, olga, "Economy")
    for value in ("2023", "Nobody won it.", "Никто не выиграл."):
        await bot.say(olga, value)
    replies = await bot.say(olga, "zebra derby winner\nGomel zebra derby")
    assert "Not accepted" not in texts_of(replies)  # two typed + the pre-filled one make 3
    await bot.say(olga, "/cancel")


async def test_owners_opt_in_to_a_daily_summary(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    replies = await bot.say(olga, "/unanswered daily on")
    assert texts_of(replies) == ADMIN.daily_on
    await bot.ask(alice, OFF_TOPIC)
    [job] = bot.app.job_queue.get_jobs_by_name(DAILY_JOB) if bot.app.job_queue else []
    before = len(fake.messages_to(olga.id))
    await job.run(bot.app)
    summary = fake.messages_to(olga.id)[before:]
    assert len(summary) == 1
    assert f"1. «{OFF_TOPIC}» × 1" in (summary[0].text or "")
    await bot.say(olga, "/unanswered daily off")
    before = len(fake.messages_to(olga.id))
    await job.run(bot.app)
    assert len(fake.messages_to(olga.id)) == before
    usage = await bot.say(olga, "/unanswered daily maybe")
    assert texts_of(usage) == "Use /unanswered daily on or /unanswered daily off."


async def test_stats_over_seven_and_thirty_days(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    answer = await bot.ask(alice, "When did Lukashenka visit Iran?")
    await bot.press(alice, answer, answer.button("👍")["callback_data"])
    await bot.ask(alice, OFF_TOPIC)
    await bot.service.store.subscribe(alice.id)
    text = texts_of(await bot.say(olga, "/stats"))
    rows = {line.split("  ")[0]: line.split() for line in text.splitlines()}
    assert rows["Questions"][-2:] == ["2", "2"]
    assert rows["Answered"][-2:] == ["50%", "50%"]
    assert rows["Declined"][-2:] == ["1", "1"]
    assert "👍 / 👎            1 / 0     1 / 0" in text
    assert "Top facts, 7 days: " in text
    assert "× 1" in text
    assert "Digest subscribers: 1" in text
    assert "Last digest: none yet" in text
    assert "unverified quotes: 0" in text


def changed_export(data: bytes, change: Any) -> bytes:
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


async def export(bot: Harness, user: FakeUser) -> bytes:
    replies = await bot.say(user, "/export")
    assert len(replies) == 1
    assert replies[0].document is not None
    assert replies[0].document.file_name is not None
    assert replies[0].document.file_name.endswith(".zip")
    return replies[0].document.data


async def test_export_then_import_applies_on_confirm(bot: Harness, fake: FakeBotApi) -> None:
    olga, alice = owner(fake), stranger(fake)
    data = await export(bot, olga)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "knowledge/sources.yaml" in names
    assert "knowledge/facts/iran.yaml" in names
    iran = sorted(f.id for f in bot.service.facts() if f.country == "iran")
    retired_id = next(i for i in iran if i != FACT_ID)

    def change(facts: list[dict[str, Any]]) -> None:
        for fact in facts:
            if fact["id"] == FACT_ID:
                fact["answer"]["en"] = "Imported: the visit marked the 30th anniversary."
        facts[:] = [f for f in facts if f["id"] != retired_id]

    before = dump(bot.app.bot_data.settings.database_path)
    injected = await fake.send_document(olga, "kb.zip", changed_export(data, change), "/import")
    await bot.wait_processed(injected)
    summary = texts_of(fake.messages_to(olga.id)[-1:])
    assert f"Changed (1): {FACT_ID}" in summary
    assert f"Retired (1): {retired_id}" in summary
    assert dump(bot.app.bot_data.settings.database_path) == before  # not before "Apply"
    replies = await press(bot, olga, ADMIN.button_apply)
    assert "Imported: 0 added, 1 changed, 1 retired" in texts_of(replies)
    fact = bot.service.fact(FACT_ID)
    assert fact is not None
    answer = await bot.ask(alice, fact.questions["en"][0])
    assert answer.text is not None
    assert answer.text.startswith("Imported: the visit marked")
    gone = bot.service.fact(retired_id)
    assert gone is not None
    assert gone.retired


async def test_import_of_a_single_yaml_file_after_the_command(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    fact = bot.service.fact(FACT_ID)
    assert fact is not None
    data = dict(fact.to_dict(), id="ir-zebra-copy")
    replies = await bot.say(olga, "/import")
    assert "Send the .zip made by /export" in texts_of(replies)
    body = yaml.safe_dump([data], allow_unicode=True).encode()
    injected = await fake.send_document(olga, "iran.yaml", body)
    await bot.wait_processed(injected)
    assert "Added (1): ir-zebra-copy" in texts_of(fake.messages_to(olga.id)[-1:])
    await press(bot, olga, ADMIN.button_apply)
    assert bot.service.fact("ir-zebra-copy") is not None


async def test_bad_imports_change_nothing(bot: Harness, fake: FakeBotApi) -> None:
    olga = owner(fake)
    database = bot.app.bot_data.settings.database_path
    before = dump(database)
    fact = bot.service.fact(FACT_ID)
    assert fact is not None
    broken = fact.to_dict()
    broken["evidence"][0]["quote"] = "Words the article never printed."
    zip_bytes = io.BytesIO()
    with zipfile.ZipFile(zip_bytes, "w") as archive:
        archive.writestr("../../outside/facts/iran.yaml", "[]")
    cases = [
        ("notes.txt", b"hello", "file: send a .zip made by /export"),
        ("kb.zip", b"PK\x03\x04 junk", "zip: the file is not a readable zip archive"),
        ("kb.zip", zip_bytes.getvalue(), "points outside the folder"),
        ("big.yaml", b"#" * (MAX_UPLOAD_BYTES + 1), "over the 1,000,000-byte limit"),
        ("iran.yaml", b"- id: [unclosed", "facts/iran.yaml:1: YAML error"),
        (
            "iran.yaml",
            yaml.safe_dump([broken], allow_unicode=True).encode(),
            "closest passage",
        ),
    ]
    for name, data, message in cases:
        gets = len(fake.calls_to("getFile"))
        injected = await fake.send_document(olga, name, data, "/import")
        await bot.wait_processed(injected)
        reply = texts_of(fake.messages_to(olga.id)[-2:])
        assert "Not accepted" in reply, (name, reply)
        assert message in reply, (name, reply)
        if name == "big.yaml":
            assert len(fake.calls_to("getFile")) == gets  # refused before downloading
    assert dump(database) == before
    # Still waiting for a usable file; /cancel ends it.
    replies = await bot.say(olga, "/cancel")
    assert texts_of(replies) == ADMIN.cancelled


async def test_import_is_refused_whole_when_a_fact_changed_meanwhile(
    bot: Harness, fake: FakeBotApi
) -> None:
    olga = owner(fake)
    data = await export(bot, olga)

    def change(facts: list[dict[str, Any]]) -> None:
        for fact in facts:
            fact["answer"]["en"] = fact["answer"]["en"][:300] + " (imported)"

    injected = await fake.send_document(olga, "kb.zip", changed_export(data, change), "/import")
    await bot.wait_processed(injected)
    stored = await bot.service.store.get(FACT_ID)
    assert stored is not None
    await bot.service.save(stored.fact.with_changes(keywords=("x",)), "tg:1", "edit", 1)
    before = dump(bot.app.bot_data.settings.database_path)
    replies = await press(bot, olga, ADMIN.button_apply)
    assert texts_of(replies).startswith("⛔ Nothing was imported:")
    assert dump(bot.app.bot_data.settings.database_path) == before


async def test_owners_manage_editors(bot: Harness, fake: FakeBotApi) -> None:
    olga, erik = owner(fake), editor(fake)
    replies = await bot.say(erik, "/find iran")
    assert texts_of(replies) == ADMIN.not_allowed["en"]
    assert "is now an editor" in texts_of(await bot.say(olga, f"/admins add {EDITOR_ID}"))
    assert "already an editor" in texts_of(await bot.say(olga, f"/admins add {EDITOR_ID}"))
    listing = texts_of(await bot.say(olga, "/admins"))
    assert f"{EDITOR_ID}, added by {olga.id}" in listing
    assert FACT_ID in texts_of(await bot.say(erik, "/find ir-30th"))
    assert texts_of(await bot.say(erik, "/admins")) == ADMIN.not_allowed["en"]
    assert texts_of(await bot.say(erik, "/unanswered daily on")) == ADMIN.not_allowed["en"]
    assert "an owner" in texts_of(await bot.say(olga, f"/admins remove {olga.id}"))
    assert "no longer an editor" in texts_of(await bot.say(olga, f"/admins remove {EDITOR_ID}"))
    assert texts_of(await bot.say(erik, "/find iran")) == ADMIN.not_allowed["en"]
    # The editors list holds only the present; the role history keeps who did what.
    history = texts_of(await bot.say(olga, "/admins"))
    assert "No editors." in history
    granted = f"{EDITOR_ID} made an editor by {olga.id}"
    revoked = f"{EDITOR_ID} no longer an editor, by {olga.id}"
    assert history.index(revoked) < history.index(granted), "newest first"
    assert history.count("made an editor") == 1, "a repeated grant is not a change"
    usage = texts_of(await bot.say(olga, "/admins add bob"))
    assert usage == "/admins add ID · /admins remove ID (numeric ids)"
