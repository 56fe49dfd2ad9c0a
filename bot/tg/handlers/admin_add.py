"""/add: a new fact, step by step, or from YAML in the same message; preview, then save.

country → topic → date → English answer → Russian answer → phrasings (en, ru) → keywords →
source (a known one, or a new one: title, outlet, date, address) → evidence quotes → preview →
save. Each value is checked by the fact-file validator as it arrives; a bad one gets the field
and the rule, and the conversation stays at that step. Nothing is written before "Save".
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, Update
from telegram.ext import BaseHandler

from bot.admin import AdminService
from bot.domain.curation import Draft, FieldError, draft_from_yaml, unverified
from bot.domain.models import ANSWER_LIMIT, COUNTRIES, MIN_QUESTIONS, QUOTE_WORD_LIMIT, TOPICS
from bot.storage.store import ConflictError
from bot.tg import admin_render
from bot.tg.admin import (
    END,
    Session,
    Step,
    admin_service,
    allowed,
    button_step,
    conversation_button,
    expect_a_button,
    say,
    session,
    text_step,
)
from bot.tg.commands import admin_command
from bot.tg.context import Context
from bot.tg.render import Outgoing, keyboard, label
from bot.tg.texts import ADMIN, EN

COUNTRY = "add:country"
TOPIC = "add:topic"
DATE = "add:date"
ANSWER_EN = "add:answer.en"
ANSWER_RU = "add:answer.ru"
QUESTIONS_EN = "add:questions.en"
QUESTIONS_RU = "add:questions.ru"
KEYWORDS = "add:keywords"
SOURCE = "add:source"
SOURCE_TITLE = "add:source.title"
SOURCE_OUTLET = "add:source.outlet"
SOURCE_DATE = "add:source.published"
SOURCE_URL = "add:source.url"
QUOTES = "add:evidence"
CONFIRM = "add:confirm"
STEPS = 11
NEW_SOURCE = "new"
LANG_NAMES = {"en": "English", "ru": "Russian"}


def _draft(current: Session) -> Draft:
    if current.draft is None:  # a step handler only runs inside a conversation that made one
        current.draft = Draft()
    return current.draft


async def add(update: Update, context: Context) -> object:
    """/add, or /add with a YAML fact in the same message."""
    user_id = await allowed(update, context)
    if user_id is None:
        return END
    current = session(context)
    current.restart()
    current.draft = Draft()
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    parts = text.split(None, 1)  # the command, then the YAML verbatim (maxsplit keeps it)
    rest = parts[1] if len(parts) > 1 else ""
    if rest.strip():
        return await from_yaml(update, context, current, rest)
    await say(update, context, Outgoing(ADMIN.add_intro))
    return await ask_for(COUNTRY, update, context, current)


async def start_draft(update: Update, context: Context, question: str, lang: str) -> object:
    """Start /add with a question people asked already filled in as a phrasing."""
    current = session(context)
    current.restart()
    current.draft = Draft(questions={lang if lang in MIN_QUESTIONS else "en": [question]})
    await say(
        update, context, Outgoing(ADMIN.add_prefilled.format(question=html.escape(question)))
    )
    return await ask_for(COUNTRY, update, context, current)


async def from_yaml(update: Update, context: Context, current: Session, text: str) -> object:
    """The one-message form: validate, then straight to the preview."""
    admin = admin_service(context)
    draft, errors = draft_from_yaml_text(admin, text)
    if errors:
        current.end()
        await say(update, context, admin_render.problems(errors), Outgoing(ADMIN.add_yaml_hint))
        return END
    current.draft = draft
    return await ask_for(CONFIRM, update, context, current)


def draft_from_yaml_text(admin: AdminService, text: str) -> tuple[Draft, list[FieldError]]:
    """The YAML form read against the current sources and ids."""
    return draft_from_yaml(text, admin.rules(), admin.taken_ids())


def _step(n: int, text: str) -> str:
    return ADMIN.step.format(n=n, total=STEPS) + " " + text


async def ask_for(state: str, update: Update, context: Context, current: Session) -> object:
    """Send the prompt for a step and move there."""
    token, draft = current.token, _draft(current)
    rows: list[list[InlineKeyboardButton]] = []
    if state == COUNTRY:
        text = _step(1, ADMIN.ask_country)
        rows = [[conversation_button(EN.countries[c], token, f"c:{c}") for c in COUNTRIES]]
    elif state == TOPIC:
        text = _step(2, ADMIN.ask_topic)
        buttons = [conversation_button(EN.topics[t], token, f"t:{t}") for t in TOPICS]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    elif state == DATE:
        text = _step(3, ADMIN.ask_date)
    elif state in (ANSWER_EN, ANSWER_RU):
        lang = state[-2:]
        n = 4 if lang == "en" else 5
        text = _step(n, ADMIN.ask_answer.format(lang=LANG_NAMES[lang], limit=ANSWER_LIMIT))
    elif state in (QUESTIONS_EN, QUESTIONS_RU):
        lang = state[-2:]
        n = 6 if lang == "en" else 7
        text = _step(n, ADMIN.ask_questions.format(lang=LANG_NAMES[lang], n=MIN_QUESTIONS[lang]))
        have = draft.questions.get(lang)
        if have:
            listed = "\n".join(f"• {html.escape(q)}" for q in have)
            text += "\n" + ADMIN.ask_questions_have.format(listed=listed)
    elif state == KEYWORDS:
        text = _step(8, ADMIN.ask_keywords)
    elif state == SOURCE:
        text = _step(9, ADMIN.ask_source)
        sources = sorted(
            admin_service(context).service.sources.values(), key=lambda s: s.published
        )
        current.sources = [s.id for s in sources]
        rows = [
            [conversation_button(label(f"{s.title} ({s.published[:4]})"), token, f"s:{i}")]
            for i, s in enumerate(sources)
        ]
        rows.append([conversation_button(ADMIN.button_new_source, token, f"s:{NEW_SOURCE}")])
    elif state == SOURCE_TITLE:
        text = ADMIN.ask_source_title
    elif state == SOURCE_OUTLET:
        text = ADMIN.ask_source_outlet
    elif state == SOURCE_DATE:
        text = ADMIN.ask_source_date
    elif state == SOURCE_URL:
        text = ADMIN.ask_source_url
        rows = [[conversation_button(ADMIN.button_no_url, token, "u")]]
    elif state == QUOTES:
        text = _step(10, _quote_prompt(context, draft))
    else:
        return await _preview(update, context, current)
    await say(update, context, Outgoing(text, keyboard(rows)))
    return state


def _quote_prompt(context: Context, draft: Draft) -> str:
    service = admin_service(context).service
    source = draft.new_source or service.sources.get(draft.source_id)
    title = html.escape(source.title if source else draft.source_id)
    known = service.texts.knows(draft.source_id)
    note = ADMIN.quote_checked if known else ADMIN.quote_unchecked
    return ADMIN.ask_quote.format(title=title, limit=QUOTE_WORD_LIMIT, note=note)


async def _preview(update: Update, context: Context, current: Session) -> object:
    admin = admin_service(context)
    draft = _draft(current)
    fact, errors = draft.build(admin.rules(), admin.taken_ids())
    if fact is None:
        await say(update, context, admin_render.problems(errors))
        return QUOTES if draft.sources else END
    sources = draft.rules_with_new(admin.rules()).sources
    blocks = admin_render.preview(fact, sources, len(unverified(fact, admin.service.texts)))
    blocks.append(ADMIN.add_confirm)
    rows = admin_render.confirm_rows(current.token, ADMIN.button_save)
    await say(update, context, *admin_render.with_buttons(blocks, rows))
    return CONFIRM


async def _checked(
    update: Update,
    context: Context,
    current: Session,
    errors: list[FieldError],
    stay: str,
    go: str,
) -> object:
    """Stay with the problems, or move on to the next step."""
    if errors:
        await say(update, context, admin_render.problems(errors))
        return stay
    return await ask_for(go, update, context, current)


# -- the steps ----------------------------------------------------------------------------------


async def country(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 1 (button or typed)."""
    errors = _draft(current).set_country(value, admin_service(context).rules())
    return await _checked(update, context, current, errors, COUNTRY, TOPIC)


async def topic(update: Update, context: Context, _: int, current: Session, value: str) -> object:
    """Step 2 (button or typed)."""
    errors = _draft(current).set_topic(value, admin_service(context).rules())
    return await _checked(update, context, current, errors, TOPIC, DATE)


async def date(update: Update, context: Context, _: int, current: Session, value: str) -> object:
    """Step 3."""
    errors = _draft(current).set_date(value, admin_service(context).rules())
    return await _checked(update, context, current, errors, DATE, ANSWER_EN)


async def answer_en(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 4."""
    errors = _draft(current).set_answer("en", value, admin_service(context).rules())
    return await _checked(update, context, current, errors, ANSWER_EN, ANSWER_RU)


async def answer_ru(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 5."""
    errors = _draft(current).set_answer("ru", value, admin_service(context).rules())
    return await _checked(update, context, current, errors, ANSWER_RU, QUESTIONS_EN)


async def questions_en(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 6: phrasings, one per line."""
    errors = _draft(current).add_questions("en", value, admin_service(context).rules())
    return await _checked(update, context, current, errors, QUESTIONS_EN, QUESTIONS_RU)


async def questions_ru(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 7: phrasings, one per line."""
    errors = _draft(current).add_questions("ru", value, admin_service(context).rules())
    return await _checked(update, context, current, errors, QUESTIONS_RU, KEYWORDS)


async def keywords(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 8."""
    errors = _draft(current).set_keywords(value, admin_service(context).rules())
    return await _checked(update, context, current, errors, KEYWORDS, SOURCE)


async def source_button(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 9 by button: a known source, or start a new one."""
    if value == NEW_SOURCE:
        _draft(current).source_fields.clear()
        return await ask_for(SOURCE_TITLE, update, context, current)
    index = int(value) if value.isdigit() else -1
    chosen = current.sources[index] if 0 <= index < len(current.sources) else value
    return await source_text(update, context, _, current, chosen)


async def source_text(
    update: Update, context: Context, _: int, current: Session, value: str
) -> object:
    """Step 9 typed: a source id."""
    errors = _draft(current).choose_source(value, admin_service(context).rules())
    return await _checked(update, context, current, errors, SOURCE, QUOTES)


def _source_field(name: str, stay: str, go: str) -> Step:
    async def step(
        update: Update, context: Context, _: int, current: Session, value: str
    ) -> object:
        draft = _draft(current)
        errors = draft.set_source_field(name, value)
        if not errors and go == QUOTES:
            errors = draft.finish_source(admin_service(context).rules())
        return await _checked(update, context, current, errors, stay, go)

    return step


source_title = _source_field("title", SOURCE_TITLE, SOURCE_OUTLET)
source_outlet = _source_field("outlet", SOURCE_OUTLET, SOURCE_DATE)
source_date = _source_field("published", SOURCE_DATE, SOURCE_URL)
source_url = _source_field("url", SOURCE_URL, QUOTES)


async def no_url(
    update: Update, context: Context, user_id: int, current: Session, _: str
) -> object:
    """The new source has no web address."""
    return await source_url(update, context, user_id, current, "-")


async def quote(update: Update, context: Context, _: int, current: Session, value: str) -> object:
    """Step 10: one quote per message, checked against the article when its text is held."""
    draft = _draft(current)
    errors = draft.add_quote(value, admin_service(context).rules())
    if errors:
        await say(update, context, admin_render.problems(errors))
        return QUOTES
    known = admin_service(context).service.texts.knows(draft.source_id)
    note = ADMIN.quote_verified if known else ADMIN.quote_unverified
    rows = [[conversation_button(ADMIN.button_preview, current.token, "p")]]
    text = ADMIN.quote_saved.format(n=len(draft.evidence), note=note)
    await say(update, context, Outgoing(text, keyboard(rows)))
    return QUOTES


async def preview(update: Update, context: Context, _: int, current: Session, __: str) -> object:
    """Step 11: the preview with Save / Cancel."""
    return await _preview(update, context, current)


async def confirm(
    update: Update, context: Context, user_id: int, current: Session, value: str
) -> object:
    """Save (the only write of /add) or cancel."""
    if value != "y":
        current.end()
        await say(update, context, Outgoing(ADMIN.cancelled))
        return END
    admin = admin_service(context)
    draft = _draft(current)
    for _ in range(2):  # the id may have been taken since the preview: then take the next one
        fact, errors = draft.build(admin.rules(), admin.taken_ids())
        if fact is None:
            await say(update, context, admin_render.problems(errors))
            return CONFIRM
        try:
            stored = await admin.create(user_id, fact, draft.new_source)
        except ConflictError:
            continue
        current.end()
        text = ADMIN.add_saved.format(fact_id=html.escape(stored.fact.id))
        await say(update, context, Outgoing(text))
        return END
    await say(update, context, Outgoing(ADMIN.add_retry))
    return CONFIRM


def entry_points() -> list[BaseHandler[Update, Context, object]]:
    """How /add starts."""
    return [admin_command("add", add)]


def states() -> dict[object, list[BaseHandler[Update, Context, object]]]:
    """The /add steps."""
    return {
        COUNTRY: [button_step("c", country), text_step(country)],
        TOPIC: [button_step("t", topic), text_step(topic)],
        DATE: [text_step(date)],
        ANSWER_EN: [text_step(answer_en)],
        ANSWER_RU: [text_step(answer_ru)],
        QUESTIONS_EN: [text_step(questions_en)],
        QUESTIONS_RU: [text_step(questions_ru)],
        KEYWORDS: [text_step(keywords)],
        SOURCE: [button_step("s", source_button), text_step(source_text)],
        SOURCE_TITLE: [text_step(source_title)],
        SOURCE_OUTLET: [text_step(source_outlet)],
        SOURCE_DATE: [text_step(source_date)],
        SOURCE_URL: [button_step("u", no_url), text_step(source_url)],
        QUOTES: [button_step("p", preview), text_step(quote)],
        CONFIRM: [button_step("k", confirm), text_step(expect_a_button)],
    }
