"""Curriculum terms: ``f(env, env_ids, state, **params)`` run at resets; they retune terms and report a value.

``state`` is a per-term dict the term keeps between calls. Parameters the curriculum config always sets
(configs/manager_env/curriculum) have no default here, so the config is their one home and a missing one is
an error that names it.
"""

from __future__ import annotations


def adaptive_termination_threshold(env, env_ids, state: dict, term: str, param: str, start: float, end: float,
                                   step: float, min_episodes: int, success_up: float = 0.8,
                                   success_down: float = 0.5) -> float:
    """Move a termination threshold from ``start`` toward ``end`` by ``step`` when the recent success rate
    (episodes ended by time-out, not failure) is above ``success_up``; back by ``step`` below ``success_down``."""
    tm = env.termination_manager
    key = f"{term}.{param}"  # each term keeps its own success window
    cur = float(state.setdefault("value", start))
    st = tm.recent_success(min_episodes, key=key)
    if st is not None:
        direction = 1.0 if end > start else -1.0
        if st > success_up:
            cur = cur + direction * step
        elif st < success_down:
            cur = cur - direction * step
        lo, hi = min(start, end), max(start, end)
        cur = min(max(cur, lo), hi)
        tm.reset_success_window(key=key)
    state["value"] = cur
    tm.set_param(term, param, cur)
    return cur


def event_level(env, env_ids, state: dict, success_up: float, success_down: float, min_episodes: int) -> float:
    """Raise the domain-randomisation level (0..max_level) when the success rate is high, lower it when low.

    The level and its range live in the event manager only (its config's ``level`` is the start and
    ``max_level`` the top, checkpoints carry the level as the env's ``event_level``); this term moves the level
    and keeps no copy of either, so the range cannot disagree with the one the events scale by."""
    tm = env.termination_manager
    events = env.event_manager
    level, max_level = int(events.level), int(events.max_level)
    st = tm.recent_success(min_episodes, key="event_level")
    if st is not None:
        if st > success_up:
            level = min(level + 1, max_level)
        elif st < success_down:
            level = max(level - 1, 0)
        tm.reset_success_window(key="event_level")
    events.set_level(level)
    return float(level)
