"""The gate's error hierarchy; each error carries the exit code the CLI turns it into.

Adapters raise these (`raise ScannerError(...) from exc`); only the CLI prints and exits.
Messages are one line and name the file, scanner or setting at fault.
"""

from __future__ import annotations


class GateError(Exception):
    """Base of every error the gate reports to a user."""

    exit_code = 2


class ScannerError(GateError):
    """A scanner is missing, crashed, hung, or printed output we cannot read (fail closed)."""

    exit_code = 2

    def __init__(self, scanner: str, message: str) -> None:
        super().__init__(f"{scanner}: {message}")
        self.scanner = scanner


class ReportFormatError(GateError):
    """An imported or scanner-produced report is malformed or of an unknown format."""

    exit_code = 2


class ConfigError(GateError):
    """Invalid configuration: bad option values, a missing target path, unreadable settings."""

    exit_code = 3


class PolicyError(ConfigError):
    """An invalid policy file; the message reads `file:line:column: problem`."""

    exit_code = 3
