"""The per-user flood window and the admin-alert cooldown, on a hand-moved clock."""

from __future__ import annotations

from bot.tg.flood import Cooldown, FloodLimiter
from tests.tg.conftest import FakeClock


def test_limit_then_one_notice_then_silence_until_the_window_passes() -> None:
    clock = FakeClock()
    flood = FloodLimiter(3, window=60, clock=clock)
    assert [flood.check(1) for _ in range(6)] == ["ok", "ok", "ok", "notice", "silent", "silent"]
    assert flood.check(2) == "ok", "another user is not affected"
    clock.advance(59.9)
    assert flood.check(1) == "silent"
    clock.advance(0.1)
    assert flood.check(1) == "ok"
    assert [flood.check(1) for _ in range(3)] == ["ok", "ok", "notice"]


def test_the_window_slides() -> None:
    clock = FakeClock()
    flood = FloodLimiter(2, window=60, clock=clock)
    assert flood.check(1) == "ok"
    clock.advance(30)
    assert flood.check(1) == "ok"
    clock.advance(30)  # the first question left the window, the second has not
    assert [flood.check(1), flood.check(1)] == ["ok", "notice"]


def test_idle_users_are_forgotten() -> None:
    clock = FakeClock()
    flood = FloodLimiter(1, window=60, clock=clock, max_users=10)
    for user in range(10):
        flood.check(user)
    clock.advance(61)
    flood.check(99)
    assert len(flood._users) == 1


def test_cooldown() -> None:
    clock = FakeClock()
    cooldown = Cooldown(60, clock=clock)
    assert cooldown.ready()
    assert not cooldown.ready()
    clock.advance(60)
    assert cooldown.ready()
