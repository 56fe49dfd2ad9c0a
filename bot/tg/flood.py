"""Time windows that keep one noisy user (or one failing update) from costing everyone else.

`FloodLimiter` caps questions per user per minute: past the cap a user gets one polite notice,
then silence until the window has passed, so the bot never answers a flood with a flood. The
state is per user, so other users are never slowed down. `Cooldown` spaces out admin alerts.
Both take a clock so tests can move time instead of sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["ok", "notice", "silent"]
Clock = Callable[[], float]


@dataclass
class _UserWindow:
    stamps: deque[float] = field(default_factory=deque)
    noticed: bool = False


class FloodLimiter:
    """A sliding window of `limit` questions per `window` seconds for each user."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Clock = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._max_users = max_users
        self._users: dict[int, _UserWindow] = {}

    def check(self, user_id: int) -> Verdict:
        """Count one question; "notice" once when the user goes over, then "silent"."""
        now = self.clock()
        user = self._users.get(user_id)
        if user is None:
            if len(self._users) >= self._max_users:
                self._forget_idle(now)
            user = self._users[user_id] = _UserWindow()
        while user.stamps and now - user.stamps[0] >= self.window:
            user.stamps.popleft()
        if len(user.stamps) < self.limit:
            user.stamps.append(now)
            user.noticed = False
            return "ok"
        if user.noticed:
            return "silent"
        user.noticed = True
        return "notice"

    def _forget_idle(self, now: float) -> None:
        """Drop users whose window has emptied, so memory follows active users only."""
        idle = [
            uid
            for uid, user in self._users.items()
            if not user.stamps or now - user.stamps[-1] >= self.window
        ]
        for uid in idle:
            del self._users[uid]


class Cooldown:
    """Lets an action through at most once per `interval` seconds."""

    def __init__(self, interval: float = 60.0, clock: Clock = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    def ready(self) -> bool:
        """True (and the cooldown starts) when the last action is at least `interval` ago."""
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True
