"""Telegram-compatible text entity handling for the fake Bot API.

A bot that formats replies as HTML only finds out about an unescaped ``<`` or a
stray closing tag when Telegram answers 400, so the fake has to reject exactly
what Telegram rejects, with the same wording. The parser below follows tdlib's
``parse_html`` (the code behind the Bot API server) step by step, including its
byte-offset error messages, its UTF-16 entity offsets and its ``<pre>``/``<code>``
merging. The only deliberate deviation is ``strict_ampersand``: tdlib keeps an
``&`` that does not start a known entity as a literal character, which silently
hides escaping bugs, so by default the fake refuses it instead.

It also detects the entities Telegram adds to incoming user messages
(bot commands, mentions, hashtags, URLs), because PTB's ``CommandHandler`` and
``filters.COMMAND`` only see a command when a ``bot_command`` entity says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

MAX_ENTITY_UTF16 = 0x10FFFF

_ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}

# tdlib's MessageEntity::get_type_priority, used to order entities that share
# offset and length.
_TYPE_PRIORITY = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "cashtag": 50,
    "phone_number": 50,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "expandable_blockquote": 0,
    "spoiler": 94,
    "custom_emoji": 99,
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_END = "\0"


class HtmlParseError(ValueError):
    """Raised with tdlib's wording so the server can prefix "can't parse entities: "."""


@dataclass(frozen=True)
class FormattedText:
    """Plain text plus Bot API ``MessageEntity`` dicts (offsets in UTF-16 code units)."""

    text: str
    entities: list[JSON] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Telegram measures lengths and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _is_space(ch: str) -> bool:
    # tdlib's is_space also treats the terminating NUL as a space.
    return ch in " \t\r\n\v\0"


def _is_ascii_alpha(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_ascii_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_ascii_alnum(ch: str) -> bool:
    return _is_ascii_alpha(ch) or _is_ascii_digit(ch)


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


class _Cursor:
    """Index into the source with tdlib's "NUL past the end" convention."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.size = len(source)

    def at(self, index: int) -> str:
        return self.source[index] if index < self.size else _END

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))


def _decode_entity(cur: _Cursor, pos: int) -> tuple[str, int] | None:
    """Mirror tdlib's decode_html_entity: returns (character, next position) or None."""
    end = pos + 1
    if cur.at(pos + 1) == "#":
        end += 1
        code = 0
        if cur.at(pos + 2) == "x":
            end += 1
            while cur.at(end) in "0123456789abcdefABCDEF":
                code = code * 16 + int(cur.at(end), 16)
                end += 1
        else:
            while _is_ascii_digit(cur.at(end)):
                code = code * 10 + int(cur.at(end))
                end += 1
        if code == 0 or code >= MAX_ENTITY_UTF16 or end - pos >= 10:
            return None
        char = chr(code)
    else:
        while _is_ascii_alpha(cur.at(end)):
            end += 1
        named = _NAMED_ENTITIES.get(cur.source[pos + 1 : end])
        if named is None:
            return None
        char = named
    if cur.at(end) == ";":
        end += 1
    return char, end


@dataclass
class _Open:
    tag: str
    argument: str
    utf16_offset: int
    out_index: int
    byte_offset: int


def _checked_link(url: str) -> str:
    """Approximate LinkManager::get_checked_link: normalise or drop an <a href>."""
    url = url.strip()
    if not url or any(_is_space(c) for c in url):
        return ""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if match is None:
        url = "http://" + url
        scheme = "http"
    else:
        scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        rest = url.split("://", 1)[1] if "://" in url else ""
        host = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if not host:
            return ""
        if rest == host:
            url += "/"
        return url
    if scheme in ("tg", "ton", "tonsite", "ftp"):
        return url
    return ""


_USER_LINK = re.compile(r"^tg://user\?id=(\d{1,15})$")


def parse_html(
    source: str,
    *,
    strict_ampersand: bool = True,
    resolve_user: Callable[[int], JSON | None] | None = None,
) -> FormattedText:
    """Parse Telegram HTML the way the Bot API does, or raise HtmlParseError.

    ``resolve_user`` turns ``tg://user?id=N`` links into ``text_mention``
    entities; unknown users make the link disappear, as Telegram does for users
    the bot has never seen.
    """
    cur = _Cursor(source)
    out: list[str] = []
    entities: list[JSON] = []
    stack: list[_Open] = []
    utf16 = 0
    i = 0
    while i < cur.size:
        ch = source[i]
        if ch == "&":
            decoded = _decode_entity(cur, i)
            if decoded is not None:
                char, i = decoded
                if 0xD800 <= ord(char) <= 0xDFFF:
                    raise HtmlParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out.append(char)
                utf16 += 2 if ord(char) > 0xFFFF else 1
                continue
            if strict_ampersand:
                raise HtmlParseError(
                    f'Unsupported HTML entity starting with "&" at byte offset '
                    f"{cur.byte_offset(i)}; escape it as &amp;"
                )
        if ch != "<":
            out.append(ch)
            utf16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        begin_bytes = cur.byte_offset(begin)
        i += 1
        if cur.at(i) != "/":
            i = _parse_start_tag(cur, i, begin, begin_bytes, stack, utf16, len(out))
        else:
            i = _parse_end_tag(
                cur, i, begin_bytes, stack, entities, out, utf16, resolve_user=resolve_user
            )
        i += 1  # skip '>'

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return FormattedText("".join(out), sort_entities(entities))


def _parse_start_tag(
    cur: _Cursor,
    i: int,
    begin: int,
    begin_bytes: int,
    stack: list[_Open],
    utf16: int,
    out_index: int,
) -> int:
    while not _is_space(cur.at(i)) and cur.at(i) != ">":
        i += 1
    if i >= cur.size:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")
    tag = _ascii_lower(cur.source[begin + 1 : i])
    if tag not in _ALLOWED_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin_bytes}')

    argument = ""
    while cur.at(i) != ">":
        while i < cur.size and _is_space(cur.at(i)):
            i += 1
        if cur.at(i) == ">":
            break
        attr_begin = i
        while not _is_space(cur.at(i)) and cur.at(i) not in "=>/\"'":
            i += 1
        attr_name = cur.source[attr_begin:i]
        if not attr_name:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {begin_bytes}'
            )
        while i < cur.size and _is_space(cur.at(i)):
            i += 1
        if cur.at(i) != "=":
            if i >= cur.size:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin_bytes}')
            if tag == "blockquote" and attr_name == "expandable":
                argument = "1"
            continue
        i += 1
        while i < cur.size and _is_space(cur.at(i)):
            i += 1
        if i >= cur.size:
            raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin_bytes}')

        if cur.at(i) not in "'\"":
            token_begin = i
            while _is_ascii_alnum(cur.at(i)) or cur.at(i) in ".-":
                i += 1
            value = _ascii_lower(cur.source[token_begin:i])
            if not _is_space(cur.at(i)) and cur.at(i) != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {cur.byte_offset(token_begin)}"
                )
        else:
            quote = cur.at(i)
            i += 1
            chars: list[str] = []
            while i < cur.size and cur.at(i) != quote:
                if cur.at(i) == "&":
                    decoded = _decode_entity(cur, i)
                    if decoded is not None:
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                chars.append(cur.at(i))
                i += 1
            if cur.at(i) == quote:
                i += 1
            value = "".join(chars)
        if i >= cur.size:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")

        if tag == "a" and attr_name == "href":
            argument = value
        elif tag == "code" and attr_name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "tg-emoji" and attr_name == "emoji-id":
            argument = value
        elif tag == "blockquote" and attr_name == "expandable":
            argument = "1"

    if tag == "span" and argument != "spoiler":
        raise HtmlParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
        )
    stack.append(_Open(tag, argument, utf16, out_index, begin_bytes))
    return i


def _parse_end_tag(
    cur: _Cursor,
    i: int,
    begin_bytes: int,
    stack: list[_Open],
    entities: list[JSON],
    out: list[str],
    utf16: int,
    *,
    resolve_user: Callable[[int], JSON | None] | None,
) -> int:
    if not stack:
        raise HtmlParseError(f"Unexpected end tag at byte offset {begin_bytes}")
    name_begin = i + 1
    while not _is_space(cur.at(i)) and cur.at(i) != ">":
        i += 1
    end_tag = _ascii_lower(cur.source[name_begin:i])
    while i < cur.size and _is_space(cur.at(i)):
        i += 1
    if cur.at(i) != ">":
        raise HtmlParseError(f"Unclosed end tag at byte offset {begin_bytes}")
    opened = stack[-1]
    if end_tag and end_tag != opened.tag:
        raise HtmlParseError(
            f"Unmatched end tag at byte offset {begin_bytes}, "
            f'expected "</{opened.tag}>", found "</{end_tag}>"'
        )
    if utf16 > opened.utf16_offset:
        _close_entity(opened, entities, out, utf16, resolve_user)
    stack.pop()
    return i


def _close_entity(
    opened: _Open,
    entities: list[JSON],
    out: list[str],
    utf16: int,
    resolve_user: Callable[[int], JSON | None] | None,
) -> None:
    offset = opened.utf16_offset
    length = utf16 - offset
    tag = opened.tag
    base: JSON = {"offset": offset, "length": length}
    if tag in _SIMPLE_TAG_TYPES or tag == "span":
        entities.append({"type": _SIMPLE_TAG_TYPES.get(tag, "spoiler"), **base})
    elif tag == "tg-emoji":
        if not re.fullmatch(r"-?\d{1,19}", opened.argument) or int(opened.argument) == 0:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", **base, "custom_emoji_id": opened.argument})
    elif tag == "a":
        url = opened.argument or "".join(out[opened.out_index :])
        user_match = _USER_LINK.match(url)
        if user_match is not None:
            user = resolve_user(int(user_match.group(1))) if resolve_user else None
            if user is not None:
                entities.append({"type": "text_mention", **base, "user": user})
            return
        checked = _checked_link(url)
        if checked:
            entities.append({"type": "text_link", **base, "url": checked})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", **base})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and opened.argument
        ):
            last["language"] = opened.argument
        else:
            entity: JSON = {"type": "code", **base}
            if opened.argument:
                entity["language"] = opened.argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, **base})


def sort_entities(entities: list[JSON]) -> list[JSON]:
    """Order entities the way tdlib does, so assertions can compare lists."""
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50)),
    )


def trim_formatted(text: str, entities: list[JSON]) -> FormattedText:
    """Strip surrounding whitespace like Telegram, shifting and clipping entities."""
    stripped_left = text.lstrip()
    cut_left = utf16_len(text) - utf16_len(stripped_left)
    trimmed = stripped_left.rstrip()
    total = utf16_len(trimmed)
    result: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - cut_left, 0)
        end = min(entity["offset"] + entity["length"] - cut_left, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return FormattedText(trimmed, sort_entities(result))


def _utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every code point index, plus one past the end."""
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offsets


def _is_word_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


_COMMAND = re.compile(r"/([a-zA-Z0-9_]{1,64})(@[a-zA-Z0-9_]{3,32})?")
_MENTION = re.compile(r"@([a-zA-Z0-9_]{2,32})")
_HASHTAG = re.compile(r"#(\w{1,256})")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}")


def detect_entities(text: str) -> list[JSON]:
    """Entities Telegram attaches to a user's plain text (commands, mentions, links)."""
    offsets = _utf16_offsets(text)
    found: list[JSON] = []

    def before(index: int) -> str:
        return text[index - 1] if index > 0 else ""

    def after(index: int) -> str:
        return text[index] if index < len(text) else ""

    def add(kind: str, start: int, end: int) -> None:
        found.append(
            {"type": kind, "offset": offsets[start], "length": offsets[end] - offsets[start]}
        )

    for m in _COMMAND.finditer(text):
        prev, nxt = before(m.start()), after(m.end())
        if (prev and (_is_word_char(prev) or prev in "/<>")) or (
            nxt and (_is_word_char(nxt) or nxt in "/<>")
        ):
            continue
        add("bot_command", m.start(), m.end())
    for m in _EMAIL.finditer(text):
        add("email", m.start(), m.end())
    emails = [(e["offset"], e["offset"] + e["length"]) for e in found if e["type"] == "email"]
    for m in _MENTION.finditer(text):
        prev, nxt = before(m.start()), after(m.end())
        if (prev and _is_word_char(prev)) or (nxt and _is_word_char(nxt)):
            continue
        if any(s <= offsets[m.start()] < e for s, e in emails):
            continue
        add("mention", m.start(), m.end())
    for m in _HASHTAG.finditer(text):
        prev = before(m.start())
        if (prev and _is_word_char(prev)) or not any(c.isalpha() for c in m.group(1)):
            continue
        add("hashtag", m.start(), m.end())
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in ".,;:!?)":
            end -= 1
        add("url", m.start(), end)
    return sort_entities(found)
