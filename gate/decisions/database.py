"""Decisions read straight from the register's database (`gate scan --database URL`).

The database is reached only through `gate.recording_sink`, the one module of the gate that
imports the register.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.decisions.interface import Decisions
from gate.recording_sink import read_decisions, safe_database_label


@dataclass(frozen=True, kw_only=True)
class DatabaseSource:
    """The register database at `url`."""

    url: str
    kind: str = "register"

    @property
    def label(self) -> str:
        """`register database <url without password>`."""
        return f"register database {safe_database_label(self.url)}"

    @property
    def credential(self) -> str:
        """The URL (its password, if any, reads the database)."""
        return self.url

    def decisions(self, project: str) -> Decisions:
        """Accepted and false-positive entries of `project`, by fingerprint."""
        return Decisions(read_decisions(database_url=self.url, project=project))
