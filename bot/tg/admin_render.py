"""Admin views as Telegram HTML: previews, problems, differences, history, lists and stats.

Previews use the same Composer as every answer, so an admin sees a new or edited fact exactly
as readers will. Every value an admin typed is escaped here, once.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence

from telegram import InlineKeyboardButton

from bot.admin import Stats
from bot.domain.answers import Composer
from bot.domain.curation import Change, FieldError, Missed, changes, shorten
from bot.domain.models import LANGUAGES, Fact, Source
from bot.domain.transfer import ImportPlan
from bot.storage.store import Editor, QueryStats, Revision, RoleChange
from bot.tg.admin import action_button, conversation_button
from bot.tg.render import Outgoing, keyboard, label, split_blocks
from bot.tg.texts import ADMIN, EN

LIST_LIMIT = 12  # ids listed per group in summaries before "…and N more"


def esc(text: str) -> str:
    """HTML-escape a value an admin or a fact supplied."""
    return html.escape(text, quote=False)


def problems(errors: Sequence[FieldError]) -> Outgoing:
    """Each broken rule with the field it concerns; the admin stays at the same step."""
    lines = [ADMIN.problems_head]
    lines += [f"• <b>{esc(f)}</b>: {esc(rule)}" for f, rule in errors[:20]]
    if len(errors) > 20:
        lines.append(ADMIN.more.format(n=len(errors) - 20))
    return Outgoing("\n".join(lines))


def preview(fact: Fact, sources: Mapping[str, Source], unverified: int) -> list[str]:
    """The fact as readers will see it, in both languages, with its quotes and its fields."""
    composer = Composer(sources)
    blocks = [ADMIN.preview_head.format(fact_id=esc(fact.id))]
    for lang in LANGUAGES:
        blocks.append(f"{ADMIN.preview_lang[lang]}\n{composer.answer(fact, lang, 'html')}")
    blocks.append(composer.evidence(fact, "en", "html"))
    if unverified:
        blocks.append(ADMIN.unverified_note.format(n=unverified))
    blocks.append(
        ADMIN.preview_fields.format(
            country=esc(EN.countries.get(fact.country, fact.country)),
            topic=esc(EN.topics.get(fact.topic, fact.topic)),
            date=esc(fact.date),
            en=len(fact.questions.get("en", ())),
            ru=len(fact.questions.get("ru", ())),
            keywords=esc(", ".join(fact.keywords)),
        )
    )
    return blocks


def with_buttons(blocks: Iterable[str], rows: list[list[InlineKeyboardButton]]) -> list[Outgoing]:
    """Blocks packed into messages, the buttons under the last one."""
    texts = split_blocks(list(blocks))
    return [Outgoing(t) for t in texts[:-1]] + [Outgoing(texts[-1], keyboard(rows))]


def confirm_rows(token: str, save: str) -> list[list[InlineKeyboardButton]]:
    """Save / Cancel buttons of a conversation."""
    return [
        [
            conversation_button(save, token, "k:y"),
            conversation_button(ADMIN.button_cancel, token, "k:n"),
        ]
    ]


def change_lines(found: Sequence[Change], limit: int = 80) -> list[str]:
    """One line per changed field: «before» → «after», shortened."""
    lines = []
    for change in found:
        before = esc(shorten(change.before, limit)) or "—"
        after = esc(shorten(change.after, limit)) or "—"
        lines.append(f"• <b>{esc(change.field)}</b>: «{before}» → «{after}»")
    return lines


def conflict(mine: Fact, theirs: Fact, version: int, by: str, at: str) -> str:
    """Why an edit was refused: who saved first, and what they changed."""
    found = changes(mine, theirs)
    lines = [ADMIN.conflict.format(fact_id=esc(theirs.id), version=version, by=esc(by), at=at)]
    lines += change_lines(found) or [ADMIN.conflict_same]
    return "\n".join(lines)


def history(fact: Fact, revisions: Sequence[Revision]) -> list[str]:
    """/history: one block per revision with a short difference."""
    blocks = [ADMIN.history_head.format(fact_id=esc(fact.id))]
    for rev in revisions:
        found = changes(rev.before, rev.after) if rev.before is not None else []
        summary = "; ".join(
            f"{c.field}: «{esc(shorten(c.before, 40))}» → «{esc(shorten(c.after, 40))}»"
            for c in found[:4]
        )
        if len(found) > 4:
            summary += "; " + ADMIN.more.format(n=len(found) - 4)
        head = ADMIN.history_line.format(
            version=rev.version, at=_when(rev.at), actor=esc(rev.actor), action=esc(rev.action)
        )
        blocks.append(f"{head}\n{summary}" if summary else head)
    return split_blocks(blocks)


def _when(stamp: str) -> str:
    return stamp.replace("T", " ")[:16] + " UTC"


def found(facts: Sequence[Fact], unverified: Mapping[str, int], query: str) -> list[str]:
    """/find results, retired facts and unchecked quotes marked."""
    if not facts:
        return [ADMIN.find_none.format(query=esc(query))]
    blocks = [ADMIN.find_head.format(query=esc(query), n=len(facts))]
    for fact in facts:
        marks = ""
        if fact.retired:
            marks += " " + ADMIN.mark_retired
        if unverified.get(fact.id):
            marks += " " + ADMIN.mark_unverified
        phrasing = (fact.questions_in("en") or (fact.answer_in("en"),))[0]
        blocks.append(f"<code>{esc(fact.id)}</code>{marks}\n{esc(shorten(phrasing, 90))}")
    return split_blocks(blocks, sep="\n")


def missed(
    items: Sequence[Missed], candidates: Mapping[str, Fact | None], tokens: Mapping[str, str]
) -> Outgoing:
    """/unanswered: numbered questions, each with its three buttons."""
    if not items:
        return Outgoing(ADMIN.missed_none)
    lines = [ADMIN.missed_head]
    rows: list[list[InlineKeyboardButton]] = []
    for n, item in enumerate(items, 1):
        kinds = []
        if item.declined:
            kinds.append(ADMIN.missed_declined.format(n=item.declined))
        if item.suggested:
            kinds.append(ADMIN.missed_suggested.format(n=item.suggested))
        lines.append(f"{n}. «{esc(shorten(item.question, 120))}» — {', '.join(kinds)}")
        token = tokens[item.key]
        row = []
        candidate = candidates.get(item.key)
        if candidate is not None:
            text = label(ADMIN.button_phrasing.format(n=n, fact_id=candidate.id), 40)
            row.append(action_button(text, "uq", token, "p"))
        row.append(action_button(ADMIN.button_new_fact.format(n=n), "uq", token, "n"))
        row.append(action_button(ADMIN.button_ignore.format(n=n), "uq", token, "i"))
        rows.append(row)
    return Outgoing("\n".join(lines), keyboard(rows))


def missed_summary(items: Sequence[Missed]) -> str:
    """The daily message to owners: the list without buttons, pointing at /unanswered."""
    lines = [ADMIN.daily_head]
    for n, item in enumerate(items, 1):
        lines.append(f"{n}. «{esc(shorten(item.question, 120))}» × {item.count}")
    lines.append(ADMIN.daily_tail)
    return "\n".join(lines)


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def stats(report: Stats) -> str:
    """/stats as a small table per window, then the fact base and the digest."""
    days = sorted(report.windows)
    rows: list[tuple[str, list[str]]] = []

    def row(name: str, value: Callable[[QueryStats], str]) -> None:
        rows.append((name, [value(report.windows[d]) for d in days]))

    row(ADMIN.stats_asked, lambda s: str(s.asked))
    row(ADMIN.stats_answered, lambda s: _share(s.answered, s.asked))
    row(ADMIN.stats_suggested, lambda s: str(s.suggested))
    row(ADMIN.stats_declined, lambda s: str(s.declined))
    row(ADMIN.stats_feedback, lambda s: f"{s.thumbs_up} / {s.thumbs_down}")
    width = max(len(name) for name, _ in rows)
    head = " " * width + "".join(f"{ADMIN.stats_days.format(n=d):>10}" for d in days)
    table = [head] + [name.ljust(width) + "".join(f"{v:>10}" for v in vs) for name, vs in rows]
    lines = [ADMIN.stats_head, "<pre>" + esc("\n".join(table)) + "</pre>"]
    for d in days:
        lines.append(_top(report.windows[d], d))
    lines.append(ADMIN.stats_subscribers.format(n=report.subscribers))
    lines.append(_digest(report))
    lines.append(
        ADMIN.stats_facts.format(
            live=report.live, retired=report.retired, unverified=report.unverified
        )
    )
    return "\n".join(lines)


def _top(window: QueryStats, days: int) -> str:
    if not window.top_facts:
        return ADMIN.stats_top_none.format(n=days)
    listed = ", ".join(f"<code>{esc(i)}</code> × {n}" for i, n in window.top_facts)
    return ADMIN.stats_top.format(n=days, facts=listed)


def _digest(report: Stats) -> str:
    last = report.last_digest
    if last is None:
        return ADMIN.stats_digest_none
    counts = ", ".join(f"{state} {n}" for state, n in sorted(last.counts.items())) or "—"
    return ADMIN.stats_digest.format(id=esc(last.id), status=esc(last.status), counts=counts)


def import_summary(plan: ImportPlan) -> list[str]:
    """What /import would do, before the admin confirms."""
    blocks = [ADMIN.import_head]
    for name, facts in (
        (ADMIN.import_added, plan.added),
        (ADMIN.import_changed, plan.changed),
        (ADMIN.import_retired, plan.retired),
    ):
        if facts:
            ids = [f"<code>{esc(f.id)}</code>" for f in facts[:LIST_LIMIT]]
            more = (
                f" {ADMIN.more.format(n=len(facts) - LIST_LIMIT)}"
                if len(facts) > LIST_LIMIT
                else ""
            )
            blocks.append(f"{name.format(n=len(facts))}: {', '.join(ids)}{more}")
    if plan.sources:
        listed = ", ".join(f"<code>{esc(s.id)}</code>" for s in plan.sources)
        blocks.append(ADMIN.import_sources.format(n=len(plan.sources), ids=listed))
    blocks.append(ADMIN.import_unchanged.format(n=plan.unchanged))
    if plan.ignored:
        blocks.append(ADMIN.import_ignored.format(files=esc(", ".join(plan.ignored[:10]))))
    return blocks


def admins(owners: Iterable[int], editors: Sequence[Editor], history: Sequence[RoleChange]) -> str:
    """/admins: owners, editors, who changed the roles lately, and how to change them."""
    lines = [
        ADMIN.admins_owners.format(ids=", ".join(f"<code>{o}</code>" for o in sorted(owners)))
    ]
    if editors:
        lines.append(ADMIN.admins_editors_head)
        lines += [
            ADMIN.admins_editor.format(id=e.user_id, by=e.added_by, at=_when(e.added_at))
            for e in editors
        ]
    else:
        lines.append(ADMIN.admins_no_editors)
    if history:
        lines.append(ADMIN.admins_history_head)
        lines += [
            ADMIN.admins_history[c.change].format(
                id=c.user_id, by=c.changed_by, at=_when(c.changed_at)
            )
            for c in history
        ]
    lines.append(ADMIN.admins_usage)
    return "\n".join(lines)
