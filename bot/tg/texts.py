"""Every string a Telegram user (or the console user) reads, in English and Russian.

Kept in one module so a translator works in one place and a handler can never ship a
hard-coded English sentence: handlers ask `texts(lang)` and get a typed table, so a string
missing in one language is a type error, not a surprise in production. Strings are HTML
(Telegram's parse mode); placeholders are filled with already-escaped values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    ask_usage="Type your question after the command, e.g. <code>/ask When did Lukashenka visit Iran?</code>",
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
    timeline_usage="Use <code>/timeline</code>, <code>/timeline azerbaijan</code> or <code>/timeline iran</code>.",
    timeline_head="<b>🗓 Timeline: Belarus, Azerbaijan and Iran</b>",
    timeline_country_head="<b>🗓 Timeline: Belarus and {country}</b>",
    timeline_empty="No dated events on file yet.",
    lang_usage="Answers in this chat: <b>{current}</b>. Change with <code>/lang en</code> or <code>/lang ru</code>.",
    lang_set="Done: I will answer in English in this chat.",
    lang_admins_only="Only the group's administrators can change its language.",
    topics_head="<b>📚 What I know</b>\nChoose a country:",
    topics_country="<b>{country}</b>\nChoose a topic:",
    topics_page="<b>{country} · {topic}</b>\nPage {page} of {pages}. Tap a question to see the answer:",
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
    ask_usage="Напишите вопрос после команды, например: <code>/ask Когда Лукашенко был в Иране?</code>",
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
    timeline_usage="Используйте <code>/timeline</code>, <code>/timeline azerbaijan</code> или <code>/timeline iran</code>.",
    timeline_head="<b>🗓 Хроника: Беларусь, Азербайджан и Иран</b>",
    timeline_country_head="<b>🗓 Хроника: Беларусь и {country}</b>",
    timeline_empty="Датированных событий пока нет.",
    lang_usage="Язык ответов в этом чате: <b>{current}</b>. Сменить: <code>/lang en</code> или <code>/lang ru</code>.",
    lang_set="Готово: в этом чате я отвечаю по-русски.",
    lang_admins_only="Язык группы могут менять только её администраторы.",
    topics_head="<b>📚 Что я знаю</b>\nВыберите страну:",
    topics_country="<b>{country}</b>\nВыберите тему:",
    topics_page="<b>{country} · {topic}</b>\nСтраница {page} из {pages}. Нажмите на вопрос, чтобы увидеть ответ:",
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
CONSOLE_PROMPT = "you> "
CONSOLE_BYE = "Bye."
CONSOLE_NOT_A_BUTTON = "(there is no button {n}; type a question or one of the numbers shown)"
CONSOLE_EDITED = "(the bot edited its message)"


def texts(lang: str) -> Texts:
    """The table for a language; anything but Russian reads English."""
    return LANGS.get(lang, EN)
