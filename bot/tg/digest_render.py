"""The digest's reports to admins as HTML: the broadcast summary, /digest status and the
preview's heading. Kept apart from the job and the handlers so both say things the same way.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence

from bot.broadcast import BroadcastReport
from bot.storage.store import DigestStatus
from bot.tg.texts import DIGEST

# Delivery states in the order an admin reads them; anything else follows.
STATES = ("sent", "failed", "deactivated", "unknown", "pending", "sending")
LISTED = 20  # chat ids named in a summary before "…"


def when(moment: dt.datetime) -> str:
    """A scheduled moment as admins read it: local wall time and its zone."""
    return f"{moment:%a %Y-%m-%d %H:%M} ({moment.tzinfo})"


def chats(ids: Iterable[int]) -> str:
    listed = sorted(ids)
    shown = ", ".join(f"<code>{i}</code>" for i in listed[:LISTED])
    return shown + (f" … (+{len(listed) - LISTED})" if len(listed) > LISTED else "")


def summary(report: BroadcastReport, resumed: bool = False) -> str:
    """What one broadcast did: the four counts, then who is unknown or failed."""
    lines = [
        DIGEST.summary.format(
            id=report.digest_id,
            how=DIGEST.how_resumed if resumed else DIGEST.how_sent,
            **report.counts,
        )
    ]
    if report.already_done:
        lines.append(DIGEST.summary_already.format(n=report.already_done))
    if report.left:
        lines.append(DIGEST.summary_left.format(n=report.left))
    if report.moved:
        moves = ", ".join(
            f"<code>{old}</code> → <code>{new}</code>" for old, new in sorted(report.moved.items())
        )
        lines.append(DIGEST.summary_moved.format(moves=moves))
    if report.unknown:
        lines.append(DIGEST.summary_unknown.format(chats=chats(report.unknown)))
    if report.failed:
        lines.append(DIGEST.summary_failed.format(chats=_failures(report.failed)))
    return "\n".join(lines)


def _failures(failed: dict[int, str]) -> str:
    items = sorted(failed.items())
    shown = "; ".join(
        f"<code>{chat_id}</code> ({html.escape(error[:100], quote=False)})"
        for chat_id, error in items[:LISTED]
    )
    return shown + (f" … (+{len(items) - LISTED})" if len(items) > LISTED else "")


def counts(status: DigestStatus) -> str:
    ordered = [s for s in STATES if s in status.counts]
    ordered += sorted(s for s in status.counts if s not in STATES)
    return ", ".join(f"{status.counts[s]} {s}" for s in ordered) or DIGEST.status_no_rows


def status(
    digests: Sequence[DigestStatus], subscribers: int, channel: str, upcoming: dt.datetime
) -> str:
    """/digest status: the schedule, then the last digests with their delivery counts."""
    lines = [
        DIGEST.status_head.format(
            subscribers=subscribers,
            channel=html.escape(channel) or DIGEST.no_channel,
            next=when(upcoming),
        )
    ]
    if not digests:
        lines.append(DIGEST.status_none)
    lines += [
        DIGEST.status_line.format(id=d.id, status=d.status, counts=counts(d)) for d in digests
    ]
    return "\n".join(lines)


def audience(subscribers: int, channel: str) -> str:
    if channel:
        return DIGEST.audience_channel.format(
            subscribers=subscribers, channel=html.escape(channel)
        )
    return DIGEST.audience.format(subscribers=subscribers)
