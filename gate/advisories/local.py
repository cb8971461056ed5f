"""Which advisory data a run reads: files it was given, else what `gate advisories sync` keeps.

An explicit path (command line or policy) always wins, feed by feed; a synced copy fills the
rest. When the OSV records come from the synced export, the run's `AdvisoryData` says so and
carries the age of the synced data (the oldest confirmation among the synced feeds it uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gate.advisories.sync import local_copy
from gate.models import AdvisoryData


@dataclass(frozen=True, kw_only=True)
class DataPaths:
    """The files a run reads, and what its verdict says about the advisory records."""

    advisories: Path | None = None
    kev: Path | None = None
    epss: Path | None = None
    source: AdvisoryData = AdvisoryData()


def data_paths(
    *, advisories: Path | None, kev: Path | None, epss: Path | None
) -> DataPaths:
    """Given paths, completed from the synced copy where one is missing."""
    copy = local_copy()
    chosen = {
        "osv": Path(advisories) if advisories else copy.path("osv"),
        "kev": Path(kev) if kev else copy.path("kev"),
        "epss": Path(epss) if epss else copy.path("epss"),
    }
    synced = [name for name, path in chosen.items() if path is not None and path == copy.path(name)]
    source = AdvisoryData()
    if advisories:
        source = AdvisoryData(kind="offline", location=str(advisories))
    elif "osv" in synced:
        source = AdvisoryData(
            kind="synced",
            location=str(chosen["osv"]),
            as_of=min(copy.checked[name] for name in synced),
        )
    return DataPaths(advisories=chosen["osv"], kev=chosen["kev"], epss=chosen["epss"],
                     source=source)
