"""What admins do to the fact base, with the role check every action goes through.

The Telegram handlers stay thin: they read the update, call this service and render its
answer. Every action takes the acting user's id and checks the role again with `require`, so
a handler (or a forged button) that forgot to ask can still not change anything, and every
change is written as a revision naming the actor ("tg:<user id>").
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Literal

from bot.domain.curation import (
    Missed,
    Role,
    Rules,
    actor_id,
    find_facts,
    question_key,
    rank_missed,
    role_of,
    unverified,
    with_phrasing,
)
from bot.domain.models import Fact, Source
from bot.domain.transfer import (
    ImportPlan,
    export_name,
    export_zip,
    plan_import,
    read_upload,
)
from bot.service import FactService
from bot.storage.store import (
    ConflictError,
    DigestStatus,
    Editor,
    QueryStats,
    Revision,
    RoleChange,
    StoredFact,
)

log = logging.getLogger(__name__)

STATS_WINDOWS = (7, 30)
MISSED_DAYS = 7


class NotAllowed(Exception):
    """The user has no role for this action (or lost it since the button was shown)."""


class NotFound(Exception):
    """No fact has this id."""

    def __init__(self, fact_id: str) -> None:
        super().__init__(fact_id)
        self.fact_id = fact_id


@dataclass(frozen=True)
class Stats:
    """/stats: the query log over each window, and the state of the fact base and digest."""

    windows: dict[int, QueryStats]
    subscribers: int
    last_digest: DigestStatus | None
    live: int
    retired: int
    unverified: int


class AdminService:
    """Admin actions over one FactService; cheap to create per update."""

    def __init__(self, service: FactService, owners: frozenset[int]) -> None:
        self.service = service
        self.store = service.store
        self.owners = owners

    # -- roles -----------------------------------------------------------------------------

    async def role(self, user_id: int | None) -> Role | None:
        """Owner (ADMIN_IDS), editor (granted by an owner) or None; read fresh every time, so a
        revoked editor loses access at once, in the middle of a conversation too."""
        if user_id is None:
            return None
        editors = {user_id} if await self.store.is_editor(user_id) else set()
        return role_of(user_id, self.owners, editors)

    async def require(self, user_id: int | None, owner: bool = False) -> int:
        role = await self.role(user_id)
        if role is None or (owner and role != "owner") or user_id is None:
            raise NotAllowed
        return user_id

    async def editors(self, user_id: int) -> list[Editor]:
        """The editors with who added them and when (owners only)."""
        await self.require(user_id, owner=True)
        return await self.store.editors()

    async def role_history(self, user_id: int, limit: int = 10) -> list[RoleChange]:
        """The latest grants and revocations of the editor role (owners only)."""
        await self.require(user_id, owner=True)
        return await self.store.role_changes(limit)

    async def grant(self, user_id: int, editor: int) -> Literal["added", "already", "owner"]:
        """Make a user an editor (owners only); owners themselves are set in ADMIN_IDS."""
        await self.require(user_id, owner=True)
        if editor in self.owners:
            return "owner"
        added = await self.store.add_editor(editor, user_id)
        log.info("editor %s added by %s", editor, user_id)
        return "added" if added else "already"

    async def revoke(self, user_id: int, editor: int) -> Literal["removed", "absent", "owner"]:
        """Take the editor role away (owners only); effective at the user's next update."""
        await self.require(user_id, owner=True)
        if editor in self.owners:
            return "owner"
        removed = await self.store.remove_editor(editor, user_id)
        log.info("editor %s removed by %s", editor, user_id)
        return "removed" if removed else "absent"

    # -- reading ---------------------------------------------------------------------------

    def rules(self) -> Rules:
        """What values are checked against: the known sources and their article texts."""
        return Rules(self.service.sources, self.service.texts)

    def taken_ids(self) -> set[str]:
        """Every fact id in use, retired ones included, so a new id never reuses one."""
        return {f.id for f in self.service.facts(include_retired=True)}

    async def current(self, user_id: int, fact_id: str) -> StoredFact:
        """A fact with its version, as the database holds it now."""
        await self.require(user_id)
        stored = await self.store.get(fact_id.strip().lower())
        if stored is None:
            raise NotFound(fact_id)
        return stored

    async def find(self, user_id: int, query: str) -> list[Fact]:
        """/find: by id, words and keywords, then the matcher's ranking; retired included."""
        await self.require(user_id)
        ranked = [f.id for f in self.service.search(query, limit=10)]
        return find_facts(self.service.facts(include_retired=True), query, ranked)

    def unverified(self, fact: Fact) -> int:
        """How many of a fact's quotes nobody could check (no article text held)."""
        return len(unverified(fact, self.service.texts))

    async def history(self, user_id: int, fact_id: str, limit: int = 10) -> list[Revision]:
        """The latest revisions of a fact, newest first."""
        stored = await self.current(user_id, fact_id)
        return await self.store.revisions(stored.fact.id, limit)

    # -- changing --------------------------------------------------------------------------

    async def create(
        self, user_id: int, fact: Fact, new_source: Source | None = None
    ) -> StoredFact:
        """A new fact (and the new source it rests on), answerable from the next message."""
        await self.require(user_id)
        sources = [new_source] if new_source is not None else []
        return await self.service.create(fact, actor_id(user_id), sources)

    async def update(
        self, user_id: int, fact: Fact, expected_version: int, action: str = "edit"
    ) -> StoredFact:
        """Save an edit; ConflictError if another admin saved the fact since the preview."""
        await self.require(user_id)
        return await self.service.save(fact, actor_id(user_id), action, expected_version)

    async def retire(self, user_id: int, fact_id: str, expected_version: int) -> StoredFact:
        stored = await self.current(user_id, fact_id)
        if stored.version != expected_version:
            raise ConflictError(stored)
        retired = stored.fact.with_changes(retired=True)
        return await self.update(user_id, retired, expected_version, "retire")

    async def restore(self, user_id: int, fact_id: str) -> StoredFact | None:
        """Bring a retired fact back; None when it was not retired."""
        stored = await self.current(user_id, fact_id)
        if not stored.fact.retired:
            return None
        live = stored.fact.with_changes(retired=False)
        return await self.update(user_id, live, stored.version, "restore")

    async def undo(self, user_id: int, fact_id: str) -> tuple[Revision, StoredFact] | None:
        """Revert the last change; returns the revision undone and the result, or None when
        the last revision created the fact (there is nothing before it)."""
        stored = await self.current(user_id, fact_id)
        last = await self.store.revisions(stored.fact.id, limit=1)
        result = await self.service.undo(stored.fact.id, actor_id(user_id))
        if result is None or not last:
            return None
        return last[0], result

    async def add_phrasing(
        self, user_id: int, fact_id: str, question: str, lang: str
    ) -> StoredFact | None:
        """One more way of asking a fact, from the unanswered list; None when it had it."""
        for _ in range(3):  # another admin may save in between; adding a phrasing commutes
            stored = await self.current(user_id, fact_id)
            changed = with_phrasing(stored.fact, question, lang)
            if changed == stored.fact:
                return None
            try:
                return await self.update(user_id, changed, stored.version, "phrasing")
            except ConflictError:
                continue
        raise ConflictError(await self.current(user_id, fact_id))

    # -- unanswered questions --------------------------------------------------------------

    async def missed(self, user_id: int, now: dt.datetime, limit: int = 10) -> list[Missed]:
        await self.require(user_id)
        rows = await self.store.logged_misses(now - dt.timedelta(days=MISSED_DAYS))
        return rank_missed(rows, await self.store.ignored_questions(), limit)

    def best_candidate(self, question: str) -> Fact | None:
        """The fact the matcher ranks first for a question, if any."""
        found = self.service.search(question, limit=1)
        return found[0] if found else None

    async def ignore(self, user_id: int, question: str) -> bool:
        """Leave a question out of /unanswered from now on (however it is typed)."""
        await self.require(user_id)
        return await self.store.ignore_question(question_key(question), user_id)

    async def set_daily(self, user_id: int, on: bool) -> None:
        """Opt an owner in or out of the daily unanswered summary."""
        await self.require(user_id, owner=True)
        await self.store.set_daily_unanswered(user_id, on)

    async def daily_recipients(self) -> list[int]:
        """Owners who opted in to the daily summary (an ex-owner's old choice is ignored)."""
        return [u for u in await self.store.daily_unanswered_users() if u in self.owners]

    # -- stats -----------------------------------------------------------------------------

    async def stats(self, user_id: int, now: dt.datetime) -> Stats:
        """/stats: the query log over 7 and 30 days and the state of base and digest."""
        await self.require(user_id)
        windows = {
            days: await self.store.query_stats(now - dt.timedelta(days=days))
            for days in STATS_WINDOWS
        }
        digests = await self.store.digest_status(limit=1)
        live = self.service.facts()
        return Stats(
            windows=windows,
            subscribers=await self.store.subscriber_count(),
            last_digest=digests[0] if digests else None,
            live=len(live),
            retired=len(self.service.facts(include_retired=True)) - len(live),
            unverified=sum(self.unverified(f) for f in live),
        )

    # -- export and import -----------------------------------------------------------------

    async def export(self, user_id: int, now: dt.datetime) -> tuple[str, bytes]:
        """The current fact base as (file name, zip bytes)."""
        await self.require(user_id)
        base = await self.store.knowledge_base()
        return export_name(now), export_zip(base, now)

    async def plan_import(self, user_id: int, filename: str, data: bytes) -> ImportPlan:
        """Read and validate an upload; UploadError or KnowledgeError say what is wrong."""
        await self.require(user_id)
        upload = read_upload(filename, data)
        current: dict[str, Fact] = {}
        versions: dict[str, int] = {}
        for fact in self.service.facts(include_retired=True):
            stored = await self.store.get(fact.id)
            if stored is not None:
                current[fact.id], versions[fact.id] = stored.fact, stored.version
        return plan_import(upload, current, versions, self.service.sources, self.service.texts)

    async def apply_import(self, user_id: int, plan: ImportPlan) -> None:
        """All of the plan in one transaction, then the index rebuilt; ConflictError (and
        nothing written) if a fact changed since the plan was made."""
        await self.require(user_id)
        await self.store.save_facts(plan.sources, plan.writes, plan.versions, actor_id(user_id))
        await self.service.reload()
