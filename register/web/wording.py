"""Plain-language sentences for executives: a risk in one line, a deadline in words, money.

Pure functions over already-loaded values; the templates escape whatever they return.
"""

from __future__ import annotations

from datetime import date

from register.models import RiskEntry


def due_phrase(due: date, *, today: date) -> str:
    """'patch due in 3 days', 'patch due today', 'patch overdue by 2 days'."""
    days = (due - today).days
    if days == 0:
        return "patch due today"
    if days > 0:
        return f"patch due in {days} day{'s' if days != 1 else ''}"
    return f"patch overdue by {-days} day{'s' if days != -1 else ''}"


def what_phrase(entry: RiskEntry) -> str:
    """What the risk is, in words a manager reads: kind, exploitation, where."""
    exploited = "known-exploited " if entry.known_exploited else ""
    if entry.kind == "dependency":
        where = f" in {entry.package}" + (f" {entry.version}" if entry.version else "")
        return f"{exploited}{entry.severity}-severity flaw in a dependency{where}".replace(
            "unknown-severity", "unrated"
        )
    where = f" in {entry.path}" if entry.path else ""
    return f"{exploited}{entry.severity}-severity flaw in the code{where}".replace(
        "unknown-severity", "unrated"
    )


def risk_sentence(entry: RiskEntry, *, project: str, today: date) -> str:
    """'Payments API: known-exploited high-severity flaw in a dependency in django 3.2,
    patch due in 3 days, owner @payments'."""
    owner = f"owner @{entry.owner.lstrip('@')}" if entry.owner else "no owner yet"
    return f"{project}: {what_phrase(entry)}, {due_phrase(entry.due_date, today=today)}, {owner}"


def money(amount: float | None, currency: str | None) -> str:
    """A rounded amount with its currency, '—' when not configured."""
    if amount is None:
        return "—"
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(amount) >= limit:
            return f"{currency or ''} {amount / limit:,.1f}{suffix}".strip()
    return f"{currency or ''} {amount:,.0f}".strip()
