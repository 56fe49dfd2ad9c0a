"""A fake Telegram Bot API for end-to-end tests of the real PTB Application.

Tests need to see what Telegram would see (and answer what Telegram would
answer) without network access or a real bot token; see ``server.py``.
"""

from .html_entities import (
    FormattedText,
    HtmlParseError,
    detect_entities,
    parse_html,
    trim_formatted,
    utf16_len,
)
from .server import (
    ALL_UPDATE_TYPES,
    DEFAULT_UPDATE_TYPES,
    ApiCall,
    ApiError,
    CallbackAnswer,
    ChatAction,
    ChatRef,
    FakeBotApi,
    FakeBotTimeout,
    FakeChat,
    FakeUser,
    FaultKind,
    FileRecord,
    InjectedUpdate,
    InlineAnswer,
    MemberStatus,
    StoredMessage,
    UploadedFile,
    polling,
)

__all__ = [
    "ALL_UPDATE_TYPES",
    "DEFAULT_UPDATE_TYPES",
    "ApiCall",
    "ApiError",
    "CallbackAnswer",
    "ChatAction",
    "ChatRef",
    "FakeBotApi",
    "FakeBotTimeout",
    "FakeChat",
    "FakeUser",
    "FaultKind",
    "FileRecord",
    "FormattedText",
    "HtmlParseError",
    "InjectedUpdate",
    "InlineAnswer",
    "MemberStatus",
    "StoredMessage",
    "UploadedFile",
    "detect_entities",
    "parse_html",
    "polling",
    "trim_formatted",
    "utf16_len",
]
