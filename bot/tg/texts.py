"""Every string a Telegram user (or the console user) reads, in English and Russian.

Kept in one module so a translator works in one place and a handler can never ship a
hard-coded English sentence: handlers ask `texts(lang)` and get a typed table, so a string
missing in one language is a type error, not a surprise in production. Strings are HTML
(Telegram's parse mode); placeholders are filled with already-escaped values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Texts:
    """One language's strings; field names say where each is used."""

    commands: Mapping[str, str]  # /help and the command menu: command → description
    countries: Mapping[str, str]
    topics: Mapping[str, str]
    welcome: str
    help_head: str
    help_questions: str
    ask_usage: str
    decline: str
    did_you_mean: str
    flood_notice: str
    error_user: str
    error_callback: str
    fact_usage: str
    fact_not_found: str
    timeline_usage: str
    timeline_head: str
    timeline_country_head: str
    timeline_empty: str
    lang_usage: str
    lang_set: str
    lang_admins_only: str
    topics_head: str
    topics_country: str
    topics_page: str
    topics_empty: str
    sources_head: str
    source_line: str
    source_no_url: str
    source_facts: str
    button_source: str
    button_evidence: str
    button_topics: str
    button_back: str
    button_prev: str
    button_next: str
    feedback_thanks: str
    feedback_expired: str
    button_expired: str
    no_evidence: str
    inline_title_fallback: str
    # /subscribe, /unsubscribe: {weekday} {time} {zone} say when, {lang} the edition
    weekdays: tuple[str, ...]  # Monday first, as datetime.weekday()
    subscribed: str
    already_subscribed: str
    unsubscribed: str
    not_subscribed: str
    subscribe_admins_only: str


EN = Texts(
    commands=MappingProxyType(
        {
            "start": "Start the bot",
            "help": "How to use the bot",
            "ask": "Ask a question (in groups: /ask QUESTION)",
            "topics": "Browse the facts by country and topic",
            "sources": "The articles every answer comes from",
            "fact": "Show one fact with the article's own words: /fact ID",
            "timeline": "Dated events in order: /timeline [azerbaijan|iran]",
            "lang": "Answer language for this chat: /lang en|ru",
            "subscribe": "Get the weekly digest in this chat",
            "unsubscribe": "Stop the weekly digest",
        }
    ),
    countries=MappingProxyType(
        {"azerbaijan": "🇦🇿 Azerbaijan", "iran": "🇮🇷 Iran", "belarus": "🇧🇾 Belarus"}
    ),
    topics=MappingProxyType(
        {
            "diplomacy": "Diplomacy",
            "visits": "Visits",
            "military": "Military",
            "trade": "Trade",
            "energy": "Energy",
            "economy": "Economy",
            "geopolitics": "Geopolitics",
            "people": "People",
            "sources": "About the sources",
            "overview": "Overview",
        }
    ),
    welcome=(
        "👋 <b>Belarus Ties Bot</b>\n\n"
        "Ask me about Belarus's relations with Azerbaijan and Iran: visits, trade, arms, "
        "energy, diplomacy. Every answer comes from a published article and ends with its "
        "citation; tap <b>📄 What the article says</b> to read the article's own words.\n\n"
        "Try: <i>When did Lukashenka visit Iran?</i>\n"
        "Or browse with /topics. /help lists everything I can do."
    ),
    help_head="<b>What I can do</b>",
    help_questions=(
        "In a private chat, just type a question. In a group, use /ask QUESTION, mention me, "
        "or reply to one of my messages. In any chat, type @{bot} and a question to share an "
        "answer. I only answer from my sourced fact base; when it has no answer I say so."
    ),
    ask_usage=(
        "Type your question after the command, e.g. "
        "<code>/ask When did Lukashenka visit Iran?</code>"
    ),
    decline=(
        "Sorry, I have no sourced answer to that. I only answer from published articles on "
        "Belarus's relations with Azerbaijan and Iran.\n\nSee what I know with /topics."
    ),
    did_you_mean="I am not sure which fact you mean. Did you mean:",
    flood_notice=(
        "You are asking faster than I can keep up with. I will answer again in a minute."
    ),
    error_user="Sorry, something went wrong on my side. Please try again in a moment.",
    error_callback="Sorry, something went wrong. Please try again.",
    fact_usage="Give a fact id, e.g. <code>/fact {example}</code>. Find ids with /topics.",
    fact_not_found="There is no fact with the id <code>{fact_id}</code>. Browse with /topics.",
    timeline_usage=(
        "Use <code>/timeline</code>, <code>/timeline azerbaijan</code> or "
        "<code>/timeline iran</code>."
    ),
    timeline_head="<b>🗓 Timeline: Belarus, Azerbaijan and Iran</b>",
    timeline_country_head="<b>🗓 Timeline: Belarus and {country}</b>",
    timeline_empty="No dated events on file yet.",
    lang_usage=(
        "Answers in this chat: <b>{current}</b>. "
        "Change with <code>/lang en</code> or <code>/lang ru</code>."
    ),
    lang_set="Done: I will answer in English in this chat.",
    lang_admins_only="Only the group's administrators can change its language.",
    topics_head="<b>📚 What I know</b>\nChoose a country:",
    topics_country="<b>{country}</b>\nChoose a topic:",
    topics_page=(
        "<b>{country} · {topic}</b>\nPage {page} of {pages}. Tap a question to see the answer:"
    ),
    topics_empty="Nothing here yet.",
    sources_head="<b>📰 Sources</b>\nEvery answer comes from one of these articles:",
    source_line="{n}. {citation}\n   Author: {author}. {facts}.",
    source_no_url="no web address",
    source_facts="{count} facts",
    button_source="🔗 Source article",
    button_evidence="📄 What the article says",
    button_topics="📚 Browse topics",
    button_back="⬆️ Back",
    button_prev="◀️ Previous",
    button_next="Next ▶️",
    feedback_thanks="Thank you for the feedback!",
    feedback_expired="This question is no longer in the log.",
    button_expired="This button has expired; please ask again.",
    no_evidence="No quotes are on file for this fact.",
    inline_title_fallback="Fact {fact_id}",
    weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    subscribed=(
        "✅ Subscribed. The weekly digest comes to this chat every {weekday} at {time}"
        " ({zone}), in {lang} (/lang changes it). /unsubscribe stops it."
    ),
    already_subscribed=(
        "This chat already gets the weekly digest ({weekday}, {time}, {zone})."
        " /unsubscribe stops it."
    ),
    unsubscribed="Done: no more weekly digests in this chat. /subscribe brings them back.",
    not_subscribed="This chat does not get the weekly digest. /subscribe starts it.",
    subscribe_admins_only=(
        "Sorry, only the group's administrators can subscribe the group to the digest or"
        " unsubscribe it."
    ),
)

RU = Texts(
    commands=MappingProxyType(
        {
            "start": "Начать",
            "help": "Как пользоваться ботом",
            "ask": "Задать вопрос (в группах: /ask ВОПРОС)",
            "topics": "Факты по странам и темам",
            "sources": "Статьи, на которых основаны ответы",
            "fact": "Факт с цитатой из статьи: /fact ID",
            "timeline": "События по датам: /timeline [azerbaijan|iran]",
            "lang": "Язык ответов в этом чате: /lang en|ru",
            "subscribe": "Получать дайджест недели в этом чате",
            "unsubscribe": "Не получать дайджест недели",
        }
    ),
    countries=MappingProxyType(
        {"azerbaijan": "🇦🇿 Азербайджан", "iran": "🇮🇷 Иран", "belarus": "🇧🇾 Беларусь"}
    ),
    topics=MappingProxyType(
        {
            "diplomacy": "Дипломатия",
            "visits": "Визиты",
            "military": "Военное сотрудничество",
            "trade": "Торговля",
            "energy": "Энергетика",
            "economy": "Экономика",
            "geopolitics": "Геополитика",
            "people": "Люди",
            "sources": "Об источниках",
            "overview": "Обзор",
        }
    ),
    welcome=(
        "👋 <b>Belarus Ties Bot</b>\n\n"
        "Спросите меня об отношениях Беларуси с Азербайджаном и Ираном: визиты, торговля, "
        "оружие, энергетика, дипломатия. Каждый ответ взят из опубликованной статьи и "
        "заканчивается ссылкой на неё; кнопка <b>📄 Текст статьи</b> покажет её собственные "
        "слова.\n\n"
        "Например: <i>Когда Лукашенко был в Иране?</i>\n"
        "Или откройте /topics. Все команды — в /help."
    ),
    help_head="<b>Что я умею</b>",
    help_questions=(
        "В личном чате просто напишите вопрос. В группе — /ask ВОПРОС, упоминание меня или "
        "ответ на моё сообщение. В любом чате наберите @{bot} и вопрос, чтобы поделиться "
        "ответом. Я отвечаю только по базе фактов с источниками; если ответа нет, я так и "
        "скажу."
    ),
    ask_usage=(
        "Напишите вопрос после команды, например: <code>/ask Когда Лукашенко был в Иране?</code>"
    ),
    decline=(
        "К сожалению, ответа с источником на этот вопрос у меня нет. Я отвечаю только по "
        "опубликованным статьям об отношениях Беларуси с Азербайджаном и Ираном.\n\n"
        "Что я знаю — в /topics."
    ),
    did_you_mean="Не уверен, какой факт вы имеете в виду. Возможно, один из этих:",
    flood_notice="Вы спрашиваете быстрее, чем я успеваю отвечать. Отвечу снова через минуту.",
    error_user="Извините, у меня что-то сломалось. Попробуйте ещё раз чуть позже.",
    error_callback="Извините, что-то пошло не так. Попробуйте ещё раз.",
    fact_usage="Укажите id факта, например: <code>/fact {example}</code>. Id есть в /topics.",
    fact_not_found="Факта с id <code>{fact_id}</code> нет. Посмотрите /topics.",
    timeline_usage=(
        "Используйте <code>/timeline</code>, <code>/timeline azerbaijan</code> или "
        "<code>/timeline iran</code>."
    ),
    timeline_head="<b>🗓 Хроника: Беларусь, Азербайджан и Иран</b>",
    timeline_country_head="<b>🗓 Хроника: Беларусь и {country}</b>",
    timeline_empty="Датированных событий пока нет.",
    lang_usage=(
        "Язык ответов в этом чате: <b>{current}</b>. "
        "Сменить: <code>/lang en</code> или <code>/lang ru</code>."
    ),
    lang_set="Готово: в этом чате я отвечаю по-русски.",
    lang_admins_only="Язык группы могут менять только её администраторы.",
    topics_head="<b>📚 Что я знаю</b>\nВыберите страну:",
    topics_country="<b>{country}</b>\nВыберите тему:",
    topics_page=(
        "<b>{country} · {topic}</b>\n"
        "Страница {page} из {pages}. Нажмите на вопрос, чтобы увидеть ответ:"
    ),
    topics_empty="Здесь пока ничего нет.",
    sources_head="<b>📰 Источники</b>\nКаждый ответ взят из одной из этих статей:",
    source_line="{n}. {citation}\n   Автор: {author}. {facts}.",
    source_no_url="без веб-адреса",
    source_facts="фактов: {count}",
    button_source="🔗 Статья-источник",
    button_evidence="📄 Текст статьи",
    button_topics="📚 Темы",
    button_back="⬆️ Назад",
    button_prev="◀️ Назад",
    button_next="Дальше ▶️",
    feedback_thanks="Спасибо за отзыв!",
    feedback_expired="Этого вопроса уже нет в журнале.",
    button_expired="Кнопка устарела; задайте вопрос ещё раз.",
    no_evidence="Цитат для этого факта нет.",
    inline_title_fallback="Факт {fact_id}",
    weekdays=("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"),
    subscribed=(
        "✅ Подписка оформлена. Дайджест недели будет приходить в этот чат раз в неделю:"
        " {weekday}, {time} ({zone}), язык: {lang} (сменить — /lang). Отписаться — /unsubscribe."
    ),
    already_subscribed=(
        "Этот чат уже получает дайджест недели ({weekday}, {time}, {zone})."
        " Отписаться — /unsubscribe."
    ),
    unsubscribed="Готово: дайджест в этот чат больше не придёт. Вернуть — /subscribe.",
    not_subscribed="Этот чат не получает дайджест недели. Подписаться — /subscribe.",
    subscribe_admins_only=(
        "Извините, подписать группу на дайджест или отписать её могут только администраторы"
        " группы."
    ),
)

LANGS: Mapping[str, Texts] = MappingProxyType({"en": EN, "ru": RU})
LANG_NAMES: Mapping[str, str] = MappingProxyType({"en": "English", "ru": "русский"})

# The console chat is for the person running the bot, who reads the project's English docs.
CONSOLE_BANNER = """\
Belarus Ties Bot: console chat (no TELEGRAM_BOT_TOKEN set)

You are talking to the same bot that runs on Telegram, in this terminal. Type a question
or a command (/help, /topics, /sources, /timeline, /fact ID, /lang ru); when a reply has
buttons, type a button's number to press it. Ctrl-D or Ctrl-C quits.

To run it on Telegram: open @BotFather in Telegram, send /newbot, choose a name and a
username, and copy the token it gives you (it looks like 123456789:AAE...). Put it in .env
as TELEGRAM_BOT_TOKEN=... (see .env.example) and run `make run` again.
"""
# Admins read alerts in English, the language of the logs they point to.
ADMIN_ALERT = (
    "⚠️ <b>tiesbot error</b> while handling update {update_id}:\n<code>{error}</code>\n\n"
    "Details are in the log. Further errors within a minute are only logged."
)
CONSOLE_PROMPT = "you> "
CONSOLE_BYE = "Bye."
CONSOLE_NOT_A_BUTTON = "(there is no button {n}; type a question or one of the numbers shown)"
CONSOLE_EDITED = "(the bot edited its message)"


def texts(lang: str) -> Texts:
    """The table for a language; anything but Russian reads English."""
    return LANGS.get(lang, EN)


# -- admins ------------------------------------------------------------------------------------
# The admin desk (owners and editors) is English-only: the fact base, its ids, the validator's
# rules and the logs are all English. Only the refusal everyone may see is in both languages.


def _admin_commands() -> Mapping[str, str]:
    return MappingProxyType(
        {
            "admin": "This list",
            "add": "Add a fact step by step (or /add followed by YAML)",
            "edit": "Edit a fact: /edit ID",
            "delete": "Retire a fact (kept in history): /delete ID",
            "restore": "Answer a retired fact again: /restore ID",
            "history": "Revisions of a fact: /history ID",
            "undo": "Revert a fact's last change: /undo ID",
            "find": "Find facts by id, words or keyword: /find TEXT",
            "unanswered": "Questions the bot could not answer (/unanswered daily on|off)",
            "stats": "Questions, answers, feedback, subscribers, digest",
            "export": "The fact base as a zip of the knowledge/ files",
            "import": "Load a zip from /export or a YAML fact file",
            "admins": "Owners: /admins, /admins add ID, /admins remove ID",
            "cancel": "Stop the /add, /edit or /import under way",
            "digest": "The weekly digest: /digest preview, /digest send, /digest status",
        }
    )


def _not_allowed() -> Mapping[str, str]:
    return MappingProxyType(
        {"en": "Sorry, that is not available here.", "ru": "Извините, здесь это недоступно."}
    )


@dataclass(frozen=True)
class AdminTexts:
    """The admin desk's strings (HTML, English); placeholders get already-escaped values."""

    commands: Mapping[str, str] = field(default_factory=_admin_commands)
    not_allowed: Mapping[str, str] = field(default_factory=_not_allowed)
    help_head: str = "<b>Admin commands</b> (your role: {role})"
    expired: str = "This button has expired."
    cancelled: str = "Cancelled. Nothing was saved."
    nothing_to_cancel: str = "Nothing to cancel."
    wrong_input: str = "Please answer the question above with text (or /cancel)."
    press_a_button: str = "Please press one of the buttons above (or /cancel)."
    timed_out: str = (
        "⌛ Your unfinished /add, /edit or /import lapsed after {minutes} min without an"
        " answer. Nothing was saved."
    )
    problems_head: str = "⚠️ <b>Not accepted</b> — fix and send again:"
    more: str = "…and {n} more"
    no_such_fact: str = "There is no fact <code>{fact_id}</code>. Look it up with /find."
    step: str = "<b>Step {n} of {total}.</b>"
    # /add
    add_intro: str = (
        "<b>New fact.</b> Answer each step; /cancel stops at any time and saves nothing. "
        "Power users: /add followed by the fact in YAML, in one message."
    )
    add_prefilled: str = "<b>New fact</b> for the question «{question}» (already a phrasing)."
    add_yaml_hint: str = (
        "Fields: country, topic, date, answer {{en, ru}}, questions {{en: [..], ru: [..]}},"
        " keywords, sources, evidence [{{source, quote}}]; id and aliases are optional;"
        " new_source {{title, outlet, published, url}} adds a source."
    )
    ask_country: str = "Which country is the fact about?"
    ask_topic: str = "Which topic?"
    ask_date: str = (
        "The date the fact concerns: <code>YYYY</code>, <code>YYYY-MM</code>,"
        " <code>YYYY-MM-DD</code>, or a period <code>START/END</code> of those."
    )
    ask_answer: str = (
        "The {lang} answer: at most {limit} characters, in your own words, with the exact"
        " figures and dates of the article."
    )
    ask_questions: str = "How people may ask it in {lang}: at least {n} phrasings, one per line."
    ask_questions_have: str = "Already there:\n{listed}"
    ask_keywords: str = "Keywords a question on this fact is likely to contain, comma-separated."
    ask_source: str = "Which article is it from? Pick one, or add a new source."
    button_new_source: str = "➕ New source"
    ask_source_title: str = "New source: the article's <b>title</b>, exactly as published."
    ask_source_outlet: str = "The <b>outlet</b> that published it."
    ask_source_date: str = (
        "The <b>publication date</b>: <code>YYYY</code>, <code>YYYY-MM</code> or"
        " <code>YYYY-MM-DD</code>."
    )
    ask_source_url: str = "The article's <b>web address</b> (http… or https…), or - if none."
    button_no_url: str = "No web address"
    ask_quote: str = (
        "Evidence: send a passage of «{title}» that supports every figure, date and name of"
        " the answer, copied word for word (at most {limit} words). One quote per message. {note}"
    )
    quote_checked: str = "It is checked against the article's text."
    quote_unchecked: str = (
        "The bot does not hold this article's text: the quote is stored as given and marked"
        " unverified."
    )
    quote_saved: str = "Quote {n} accepted {note}. Send another, or press Preview."
    quote_verified: str = "(✅ found in the article)"
    quote_unverified: str = "(⚠️ unverified)"
    button_preview: str = "👁 Preview"
    preview_head: str = "<b>Preview of <code>{fact_id}</code></b>, exactly as readers will see it:"
    preview_lang: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(
            {"en": "🇬🇧 <b>English</b>", "ru": "🇷🇺 <b>Russian</b>"}
        )
    )
    unverified_note: str = "⚠️ {n} quote(s) unverified: the bot does not hold the article's text."
    preview_fields: str = (
        "<i>{country} · {topic} · {date} · {en} English and {ru} Russian phrasings ·"
        " keywords: {keywords}</i>"
    )
    add_confirm: str = "Save this fact? It will be answered from the next message on."
    button_save: str = "✅ Save"
    button_cancel: str = "✖️ Cancel"
    add_saved: str = (
        "✅ Saved as <code>{fact_id}</code>; it is answered from now on."
        " /fact {fact_id} · /edit {fact_id} · /undo {fact_id}"
    )
    add_retry: str = "The id was taken meanwhile; press Save again."
    # /edit
    edit_usage: str = "Use <code>/edit ID</code>; find ids with /find."
    edit_choose: str = "Editing <code>{fact_id}</code> (version {version}){retired}. Which field?"
    edit_current: str = (
        "Current <b>{field}</b>:\n<code>{value}</code>\n\nSend the new value. {hint}"
    )
    edit_hints: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(
            {
                "questions.en": "One phrasing per line.",
                "questions.ru": "One phrasing per line.",
                "keywords": "Comma-separated.",
                "aliases": "Comma-separated; - for none.",
                "sources": "Source ids, comma-separated.",
                "evidence": (
                    "One quote per line; start a line with <code>source-id:</code> to quote"
                    " another article."
                ),
                "timeline": "yes or no.",
                "date": "YYYY, YYYY-MM, YYYY-MM-DD or START/END.",
                "country": "azerbaijan, iran or belarus.",
                "topic": "diplomacy, visits, military, trade, energy, economy, geopolitics,"
                " people, sources or overview.",
            }
        )
    )
    edit_diff_head: str = "<b>Your changes</b>"
    edit_confirm: str = "Save these changes?"
    button_another_field: str = "✏️ Another field"
    edit_saved: str = (
        "✅ Saved <code>{fact_id}</code> (version {version}); answers use it from now on."
        " /undo {fact_id} reverts it."
    )
    conflict: str = (
        "⛔ Not saved: <code>{fact_id}</code> was changed by {by} at {at} (now version"
        " {version}) after you opened it. Your edit was not applied; what changed meanwhile:"
    )
    conflict_same: str = "(no visible difference)"
    # /delete, /restore, /history, /undo, /find
    delete_usage: str = "Use <code>/delete ID</code>; find ids with /find."
    delete_confirm: str = (
        "Retire <code>{fact_id}</code>? It will no longer be answered; it stays in the"
        " history and /restore brings it back."
    )
    button_retire: str = "🗄 Retire"
    already_retired: str = "<code>{fact_id}</code> is already retired (/restore {fact_id})."
    retired: str = (
        "🗄 Retired <code>{fact_id}</code> (version {version}). /restore {fact_id} undoes it."
    )
    retire_conflict: str = (
        "⛔ Not retired: <code>{fact_id}</code> changed meanwhile (version {version}, by {by})."
        " Look again with /fact {fact_id} and retry /delete."
    )
    restore_usage: str = "Use <code>/restore ID</code>."
    restored: str = "✅ Restored <code>{fact_id}</code> (version {version}); it is answered again."
    not_retired: str = "<code>{fact_id}</code> is not retired."
    history_usage: str = "Use <code>/history ID</code>."
    history_head: str = "<b>History of <code>{fact_id}</code></b>, newest first:"
    history_line: str = "<b>v{version}</b> · {at} · {actor} · <b>{action}</b>"
    undo_usage: str = "Use <code>/undo ID</code>."
    undo_nothing: str = "Nothing to undo: the last revision of <code>{fact_id}</code> created it."
    undone: str = (
        "↩️ Reverted the last change of <code>{fact_id}</code> ({action} by {actor});"
        " now version {version}. Restored values:"
    )
    find_usage: str = "Use <code>/find TEXT</code>: an id, words of an answer or a keyword."
    find_head: str = "<b>{n} fact(s) for «{query}»</b>"
    find_none: str = "No fact matches «{query}»."
    mark_retired: str = "🗄 retired"
    mark_unverified: str = "⚠️ unverified evidence"
    # /unanswered
    missed_head: str = "<b>Not answered in the last 7 days</b>, most asked first:"
    missed_none: str = "Every question of the last 7 days was answered (or ignored)."
    missed_declined: str = "declined × {n}"
    missed_suggested: str = "did-you-mean × {n}"
    button_phrasing: str = "➕ {n} → {fact_id}"
    button_new_fact: str = "📝 {n} new fact"
    button_ignore: str = "🙈 {n} ignore"
    ignored: str = "🙈 «{question}» will no longer be listed."
    phrasing_added: str = (
        "➕ «{question}» is now a phrasing of <code>{fact_id}</code> (version {version});"
        " /undo {fact_id} reverts it."
    )
    phrasing_had: str = "<code>{fact_id}</code> already has that phrasing."
    daily_usage: str = (
        "Use <code>/unanswered daily on</code> or <code>/unanswered daily off</code>."
    )
    daily_on: str = "You will get the unanswered questions once a day (at DIGEST_TIME)."
    daily_off: str = "Daily summary off."
    daily_head: str = "<b>Daily summary: questions not answered in the last 7 days</b>"
    daily_tail: str = "Act on them with /unanswered; stop this with /unanswered daily off."
    # /stats
    stats_head: str = "<b>📊 Stats</b>"
    stats_days: str = "{n} days"
    stats_asked: str = "Questions"
    stats_answered: str = "Answered"
    stats_suggested: str = "Did you mean"
    stats_declined: str = "Declined"
    stats_feedback: str = "👍 / 👎"
    stats_top: str = "Top facts, {n} days: {facts}"
    stats_top_none: str = "Top facts, {n} days: none yet"
    stats_subscribers: str = "Digest subscribers: {n}"
    stats_digest: str = "Last digest: {id}, {status} ({counts})"
    stats_digest_none: str = "Last digest: none yet"
    stats_facts: str = "Facts: {live} answered, {retired} retired; unverified quotes: {unverified}"
    # /export, /import
    export_caption: str = (
        "📦 {facts} facts, {sources} sources ({name}). Edit and send back with /import."
    )
    import_send: str = (
        "Send the .zip made by /export, or one .yaml fact file, as a document (at most"
        " {limit:,} bytes). /cancel stops."
    )
    import_fix: str = "Nothing was imported. Fix the file and send it again, or /cancel."
    import_head: str = "<b>Import summary</b>"
    import_added: str = "Added ({n})"
    import_changed: str = "Changed ({n})"
    import_retired: str = "Retired ({n})"
    import_sources: str = "Sources added or changed ({n}): {ids}"
    import_unchanged: str = "Unchanged: {n}"
    import_ignored: str = "Ignored files: {files}"
    import_confirm: str = "Apply all of this in one go?"
    button_apply: str = "✅ Apply"
    import_nothing: str = "The file matches the fact base ({n} facts unchanged): nothing to do."
    import_conflict: str = (
        "⛔ Nothing was imported: <code>{fact_id}</code> was changed by {by} at {at} after the"
        " summary. Send the file again to see the new summary."
    )
    import_done: str = (
        "✅ Imported: {added} added, {changed} changed, {retired} retired. Answers use them now."
    )
    # /admins
    admins_owners: str = "<b>Owners</b> (ADMIN_IDS): {ids}"
    admins_editors_head: str = "<b>Editors</b>:"
    admins_editor: str = "• <code>{id}</code>, added by {by} on {at}"
    admins_no_editors: str = "No editors."
    admins_history_head: str = "<b>Latest role changes</b>:"
    admins_history: Mapping[str, str] = field(
        default_factory=lambda: {
            "granted": "• {at}: <code>{id}</code> made an editor by {by}",
            "revoked": "• {at}: <code>{id}</code> no longer an editor, by {by}",
        }
    )
    admins_usage: str = (
        "<code>/admins add ID</code> · <code>/admins remove ID</code> (numeric ids)"
    )
    admins_outcome: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(
            {
                "added": "✅ <code>{id}</code> is now an editor.",
                "already": "<code>{id}</code> is already an editor.",
                "removed": "✅ <code>{id}</code> is no longer an editor.",
                "absent": "<code>{id}</code> is not an editor.",
                "owner": "<code>{id}</code> is an owner; owners are set in ADMIN_IDS.",
            }
        )
    )


ADMIN = AdminTexts()


# -- the weekly digest, for admins (English, like the rest of the desk) ---------------------


@dataclass(frozen=True)
class DigestTexts:
    """/digest and the digest's reports to admins (HTML); placeholders get escaped values."""

    usage: str = (
        "Use <code>/digest preview</code>, <code>/digest send</code> or"
        " <code>/digest status</code>."
    )
    preview_head: str = (
        "👁 <b>Preview of digest {id}</b>, {edition} edition: {parts} message(s), below exactly"
        " as they go out, to {audience}. {schedule}"
    )
    audience: str = "{subscribers} subscriber(s)"
    audience_channel: str = "{subscribers} subscriber(s) and the channel {channel}"
    schedule: str = "Next scheduled: {next}."
    stored: str = "This week's digest is already stored; this is the stored text."
    editions: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({"en": "🇬🇧 English", "ru": "🇷🇺 Russian"})
    )
    button_edition: str = "{edition} edition"
    send_confirm: str = "📤 Send digest {id} now to {audience}?"
    send_again: str = (
        "Digest {id} already went out this week: sending again reaches only the chats that"
        " have not had it (new subscribers), never anyone twice."
    )
    button_send: str = "📤 Send now"
    sending: str = "📤 Sending digest {id}… A summary follows when it is done."
    busy: str = "A digest broadcast is under way; /digest status shows the counts so far."
    summary: str = (
        "📬 <b>Digest {id}</b>{how}: {sent} sent, {failed} failed, {deactivated} deactivated,"
        " {unknown} unknown."
    )
    how_resumed: str = " (resumed after a restart)"
    how_sent: str = " broadcast"
    summary_already: str = "{n} chat(s) had it already."
    summary_moved: str = "Groups that became supergroups, followed to their new ids: {moves}"
    summary_left: str = (
        "⏸ The bot stopped half-way: {n} chat(s) still to go; they get it when it starts again."
    )
    summary_unknown: str = (
        "Unknown — may or may not have arrived, never re-sent (in flight when the bot stopped,"
        " or the connection dropped): {chats}"
    )
    summary_failed: str = "Failed: {chats}"
    skipped: str = (
        "⏭ The digest due {slot} was not sent: the bot was down then and is now more than a"
        " day late. Week {id} is skipped; <code>/digest send</code> sends it anyway."
    )
    empty: str = "⏭ Digest {id} not sent: there is nothing to tell (no live facts)."
    channel_problem: str = (
        "⚠️ <b>Digest channel {channel}</b>: {problem}. Make the bot an administrator of the"
        " channel with the right to post messages; until then the channel misses the digest."
    )
    channel_not_admin: str = "the bot is not an administrator there (status: {status})"
    channel_no_post: str = "the bot is an administrator but may not post messages"
    status_head: str = (
        "<b>📬 Weekly digest</b>\nSubscribers: {subscribers}. Channel: {channel}. Next: {next}."
    )
    status_none: str = "No digest has been made yet."
    status_line: str = "<b>{id}</b> · {status} · {counts}"
    status_no_rows: str = "no deliveries"
    no_channel: str = "none"


DIGEST = DigestTexts()
