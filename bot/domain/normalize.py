"""Turns text in English, Russian or Belarusian into comparable keys.

Questions arrive in three languages and two scripts, with typos and inflection. Every word is
reduced to one Latin key: Unicode-normalised, case-folded, Belarusian letters mapped to their
Russian counterparts, light suffix stripping for each language, then transliterated. So
"Лукашэнкі", "Лукашенко" and "Lukashenka" all come close to one key, and the matcher compares
keys, never raw text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_WORD = re.compile(r"[0-9a-zа-яё]+")
# "T-72", "Су-25", "2S7", "BTR-70": model names are one word whatever the hyphen.
# NFKC (in fold) turns the non-breaking hyphen U+2011 into U+2010, so both are listed.
_MODEL_HYPHEN = re.compile(r"(?<=[a-zа-яё])[-‐‑–](?=\d)")
_YEAR_RANGE = re.compile(r"\b(\d{2})(\d{2})[-‐‑–](\d{2})\b")
_APOSTROPHES = re.compile(r"(?<=[а-яёіў])['’ʼ](?=[а-яёіў])")

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip
_TRANSLIT_TABLE = str.maketrans(_TRANSLIT)

# Longest first, so "ами" is stripped before "и".
_RU_ENDINGS = sorted(
    {
        *"ами ями ого его ому ему ыми ими иях ях ах ией ии ия ие ий ый ой ая яя ое ее ые".split(),
        *"ых их ов ев ей ом ем ам ям ую юю ою ею ым им а я о е ы и у ю ь й".split(),
    },
    key=len,
    reverse=True,
)
_EN_RULES = (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))
_EN_KEEP = {"us", "is", "was", "has", "its", "this", "gas", "news", "yes", "less", "process"}


def is_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def language_of(text: str) -> str:
    """The reply language for a question: Russian for any Cyrillic (Belarusian included)."""
    return "ru" if is_cyrillic(text) else "en"


def fold(text: str) -> str:
    """Unicode-normalised, case-folded text with Belarusian letters mapped to Russian ones."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if "'" in text or "’" in text or "ʼ" in text:
        text = _APOSTROPHES.sub("", text)
    # In names ў stands where Russian writes в (Аліеў, Алиев). Two replaces: str.translate
    # with a table is a per-character slow path in CPython.
    return text.replace("і", "и").replace("ў", "в")


def _stem_ru(word: str) -> str:
    for ending in _RU_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _stem_en(word: str) -> str:
    if word in _EN_KEEP or len(word) <= 3:
        return word
    for suffix, replacement in _EN_RULES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


def transliterate(word: str) -> str:
    """Latin letters for a folded word, without stemming (for prefixes of word families)."""
    return word.translate(_TRANSLIT_TABLE)


@lru_cache(maxsize=65536)
def key(word: str) -> str:
    """The comparable key of one folded word."""
    if is_cyrillic(word):
        return _stem_ru(word).translate(_TRANSLIT_TABLE)
    return _stem_en(word)


def _expand_year_ranges(text: str) -> str:
    return _YEAR_RANGE.sub(lambda m: f"{m[1]}{m[2]} {m[1]}{m[3]}", text)


def words(text: str) -> list[str]:
    """The folded words of a text, model names kept whole and "2002–12" read as 2002 to 2012."""
    return _WORD.findall(_MODEL_HYPHEN.sub("", _expand_year_ranges(fold(text))))


def keys(text: str) -> list[str]:
    return [key(w) for w in words(text)]
