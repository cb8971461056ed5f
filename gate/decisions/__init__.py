"""Triage decisions from outside the policy: the register (HTTP or database), VEX files.

`load_decisions(sources, project=..., policy=...)` asks each source once. A register source
that cannot be reached is replaced by its cached last answer, with its age, or by none; each
source's standing becomes a `DecisionsNote` that every report shows (never a silent pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from gate.config import GateConfig
from gate.decisions.cache import DecisionCache, default_cache_dir
from gate.decisions.interface import (
    Decisions,
    DecisionSource,
    DecisionsUnavailableError,
)
from gate.models import DecisionsNote, DecisionsStatus
from gate.policy.schema import Policy

__all__ = ["DecisionSource", "Decisions", "load_decisions", "sources_for"]


def sources_for(config: GateConfig) -> list[DecisionSource]:
    """The sources a run names: `--register` (with `--token`), `--database`, each `--vex`."""
    sources: list[DecisionSource] = []
    if config.register_url:
        from gate.decisions.register_http import RegisterSource

        sources.append(RegisterSource(url=config.register_url, token=config.register_token or ""))
    if config.decisions_database:
        from gate.decisions.database import DatabaseSource

        sources.append(DatabaseSource(url=config.decisions_database))
    if config.vex_files:
        sources += _vex_sources(config)
    return sources


def _vex_sources(config: GateConfig) -> list[DecisionSource]:
    """Each `--vex` file; on a diff-aware run one inside the scanned tree is read as committed
    at the baseline, as the policy is: a change cannot vouch for its own findings."""
    from gate.decisions.vex import VexSource
    from gate.gitinfo import resolve_commit

    root = config.target
    if not config.baseline_ref:
        return [VexSource(path=path) for path in config.vex_files]
    at = resolve_commit(root, config.baseline_ref)
    return [VexSource(path=path, at=at, ref=config.baseline_ref, root=root)
            for path in config.vex_files]


def decisions_for(config: GateConfig, *, project: str, policy: Policy) -> Decisions | None:
    """The decisions of a run's sources (None when it names none), cached per source."""
    sources = sources_for(config)
    if not sources:
        return None
    cache = DecisionCache(directory=default_cache_dir())
    return load_decisions(sources, project=project, policy=policy, cache=cache)


def load_decisions(
    sources: Sequence[DecisionSource],
    *,
    project: str,
    policy: Policy,
    cache: DecisionCache | None = None,
    now: datetime | None = None,
) -> Decisions:
    """Every source's decisions for `project`, combined (the first source wins a tie)."""
    at = now or datetime.now(UTC)
    parts = []
    for source in sources:
        if not policy.decisions.allows(source.kind):
            note = DecisionsNote(source=source.label, status=DecisionsStatus.OFF)
            parts.append(Decisions(notes=(note,)))
            continue
        parts.append(_ask(source, project=project, cache=cache, at=at))
    return Decisions.combine(parts)


def _ask(
    source: DecisionSource, *, project: str, cache: DecisionCache | None, at: datetime
) -> Decisions:
    cacheable = cache is not None and source.kind == "register"
    try:
        found = source.decisions(project)
    except DecisionsUnavailableError as exc:
        cached = (cache.load(source.label, project, credential=source.credential)
                  if cache is not None and cacheable else None)
        if cached is None:
            note = DecisionsNote(
                source=source.label, status=DecisionsStatus.UNAVAILABLE, error=str(exc)
            )
            return Decisions(notes=(note,))
        note = DecisionsNote(
            source=source.label,
            status=DecisionsStatus.CACHED,
            count=len(cached.decisions),
            fetched_at=cached.fetched_at,
            error=str(exc),
        )
        return Decisions(cached.decisions, notes=(note,))
    if cache is not None and cacheable:
        cache.save(source.label, project, dict(found.by_fingerprint), at=at,
                   credential=source.credential)
    note = DecisionsNote(
        source=source.label, status=DecisionsStatus.LIVE, count=len(found), fetched_at=at
    )
    return replace(found, notes=(note,))
