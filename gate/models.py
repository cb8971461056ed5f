"""The one data model of riskgate: findings, the decisions about them, and the verdict.

The JSON form of `Verdict` is the gate's report and the register's upload schema: it is
serialised once, here, by pydantic. Every model is frozen.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"


class Severity(StrEnum):
    """Severity of a finding; `unknown` when no trustworthy source gave one (never invented)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Higher is worse; `unknown` ranks between high and critical only through the policy."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.INFO: 1,
    Severity.UNKNOWN: 0,
}


class FindingKind(StrEnum):
    """A vulnerable dependency or a flaw in the project's own code."""

    DEPENDENCY = "dependency"
    CODE = "code"


EARLIEST_RUN_YEAR = 1970
LATEST_RUN_YEAR = 2999


def _plausible_time(value: datetime) -> datetime:
    """A run time date arithmetic can work with (a year-9999 time overflows every SLA)."""
    if not EARLIEST_RUN_YEAR <= value.year <= LATEST_RUN_YEAR:
        raise ValueError(f"a run time must lie between the years {EARLIEST_RUN_YEAR} and "
                         f"{LATEST_RUN_YEAR}, not {value.year}")
    return value


RunTime = Annotated[datetime, AfterValidator(_plausible_time)]


def _named(value: str) -> str:
    """A rule or advisory id with something in it: identity and fingerprints are built on it."""
    if not value.strip():
        raise ValueError("a rule or advisory id must not be blank")
    return value


RuleId = Annotated[str, AfterValidator(_named)]
# A line number as the register stores it (a 32-bit integer column); no file has more lines.
LineNumber = Annotated[int, Field(ge=0, le=2**31 - 1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(_Frozen):
    """Where a finding is: a file and lines for code, a package for dependencies.

    `scope` is the function or class around code (`Server.start`), when the scanner knows it.
    """

    path: str | None = None
    start_line: LineNumber | None = None
    end_line: LineNumber | None = None
    scope: str | None = None
    package: str | None = None
    version: str | None = None
    manifest: str | None = None

    def display(self) -> str:
        """A short human form: `path:line` or `package==version`."""
        if self.package:
            text = f"{self.package}=={self.version}" if self.version else self.package
            return f"{text} ({self.manifest})" if self.manifest else text
        if self.path and self.start_line:
            return f"{self.path}:{self.start_line}"
        return self.path or "?"


class Finding(_Frozen):
    """One normalised finding from any scanner or imported report."""

    kind: FindingKind
    scanner: str
    rule_id: RuleId
    title: str
    severity: Severity = Severity.UNKNOWN
    fingerprint: str
    location: Location = Field(default_factory=Location)
    aliases: tuple[str, ...] = ()
    message: str = ""
    cvss_score: float | None = None
    cvss_vector: str | None = None
    cwe: tuple[str, ...] = ()
    owasp: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    remediation_target: str | None = None
    snippet: str | None = None
    help_url: str | None = None
    confidence: str | None = None
    known_exploited: bool = False
    kev_due_date: date | None = None
    epss: float | None = None
    epss_percentile: float | None = None

    @property
    def fix_available(self) -> bool:
        """True when a fixed version is published (dependency findings)."""
        return bool(self.fix_versions)

    @property
    def ids(self) -> tuple[str, ...]:
        """The rule or advisory id followed by its aliases."""
        return (self.rule_id, *self.aliases)


class Action(StrEnum):
    """What the policy does with one finding."""

    BLOCK = "block"
    WARN = "warn"
    IGNORE = "ignore"
    EXISTING = "existing"
    PASS = "pass"  # noqa: S105 - a verdict, not a password


class Decision(StrEnum):
    """The verdict a pipeline acts on."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    BLOCK = "block"
    ERROR = "error"


class ScanScope(StrEnum):
    """How much of the project a run saw; only `full` runs may auto-fix register entries."""

    FULL = "full"
    DIFF = "diff"
    PARTIAL = "partial"


class TriageStatus(StrEnum):
    """A triage decision taken outside the policy (in the register or a VEX file)."""

    ACCEPTED = "accepted"
    FALSE_POSITIVE = "false_positive"


class CodeAnchor(_Frozen):
    """What a decision about code was taken on, so it can follow an edit of that code."""

    rule_id: str
    path: str
    snippet: str
    scope: str | None = None
    start_line: LineNumber | None = None


class TriageDecision(_Frozen):
    """Someone decided about one risk: accepted (until a date) or a false positive, and why.

    `source` says where it came from (the register, a VEX file); `until` is the acceptance's
    last day (an acceptance without one never unblocks); `code` is the code it was taken on.
    """

    status: TriageStatus
    reason: str
    source: str
    by: str | None = None
    until: date | None = None
    code: CodeAnchor | None = None

    def active(self, day: date) -> bool:
        """True while the decision holds on `day` (false positives never lapse)."""
        if self.status is TriageStatus.FALSE_POSITIVE:
            return True
        return self.until is not None and day <= self.until

    def describe(self) -> str:
        """One line for reports: what was decided, by whom, until when, why."""
        what = "accepted" if self.status is TriageStatus.ACCEPTED else "false positive"
        until = f" until {self.until.isoformat()}" if self.until else ""
        by = f", approved by {self.by}" if self.by else ""
        return f"{what} in the {self.source}{until}{by}: {self.reason}"


class DecisionsStatus(StrEnum):
    """How the run got its triage decisions."""

    LIVE = "live"
    CACHED = "cached"
    UNAVAILABLE = "unavailable"
    OFF = "off"


class DecisionsNote(_Frozen):
    """Where one source of triage decisions stood for this run (said in every report)."""

    source: str
    status: DecisionsStatus
    count: int = 0
    fetched_at: datetime | None = None
    error: str | None = None

    def describe(self, now: datetime | None = None) -> str:
        """One line: live with N decisions, cached with its age, or unreachable with none."""
        plural = "decision" if self.count == 1 else "decisions"
        if self.status is DecisionsStatus.LIVE:
            return f"triage decisions: {self.count} {plural} from {self.source}"
        if self.status is DecisionsStatus.OFF:
            return f"triage decisions: {self.source} not consulted: the policy turns it off"
        problem = f"{self.source} unreachable ({self.error or 'no answer'})"
        if self.status is DecisionsStatus.CACHED and self.fetched_at is not None:
            age = _age((now or datetime.now(UTC)) - self.fetched_at)
            return (
                f"{problem}: using {self.count} cached {plural} from "
                f"{self.fetched_at.strftime('%Y-%m-%d %H:%M')} UTC ({age} old)"
            )
        return f"{problem}: no cached decisions; none applied"


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


class EvaluatedFinding(_Frozen):
    """A finding with the policy's action and the reason for it.

    `triage` is the register or VEX decision that applied to it, if any (it may have
    unblocked the finding, or be shown as lapsed or not allowed by the policy).
    `in_baseline` says whether the baseline had it (None on a run without a baseline),
    whatever the action: an ignored finding can be old or new.
    """

    finding: Finding
    action: Action
    reason: str
    policy_rule: str | None = None
    owner: str | None = None
    triage: TriageDecision | None = None
    in_baseline: bool | None = None


class ScannerStatus(StrEnum):
    """How a scanner's run ended."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class PathNote(_Frozen):
    """A path a scanner did not scan, and why."""

    path: str
    reason: str


class Coverage(_Frozen):
    """What a scanner really covered, next to what was in scope.

    `not_scanned` are in-scope files the scanner skipped or failed on: each is also a
    `riskgate-file-not-scanned` finding. `excluded` are paths the policy's `scope.exclude` or
    the target's ignore files put out of scope (a bounded sample; `excluded_total` counts all).
    """

    in_scope: int = 0
    scanned: int = 0
    not_scanned: tuple[PathNote, ...] = ()
    excluded: tuple[PathNote, ...] = ()
    excluded_total: int = 0


class ScannerRun(_Frozen):
    """What one scanner did in this run."""

    name: str
    status: ScannerStatus
    version: str | None = None
    duration_seconds: float | None = None
    error: str | None = None
    fail_open: bool = False
    finding_count: int = 0
    coverage: Coverage | None = None


class AdvisoryData(_Frozen):
    """Where a run's advisory records came from, how old they were and what is missing.

    `kind` is `osv-api` (looked up online), `synced` (`gate advisories sync`'s copy), `offline`
    (a directory or export zip given to the run) or `none`. `as_of` is when the data was last
    confirmed current and `age_days` its age at the run; `stale` when older than the policy
    allows. `unresolved` are advisory ids whose records could not be fetched: the
    severity of their findings stays unknown and `note` says why.
    """

    kind: str = "none"
    location: str | None = None
    as_of: datetime | None = None
    age_days: float | None = None
    stale: bool = False
    records: int = 0
    looked_up: int = 0
    from_cache: int = 0
    unresolved: tuple[str, ...] = ()
    note: str | None = None


class ExpiredIgnore(_Frozen):
    """An ignore entry of the policy whose expiry has passed; it no longer applies."""

    rule: str
    reason: str
    owner: str
    expired_on: date


class Criticality(StrEnum):
    """How much the business depends on the asset being scanned."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DataClassification(StrEnum):
    """The most sensitive data the asset handles."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


MAX_DAYS = 36_500
DEFAULT_SLA_DAYS = {
    Severity.CRITICAL: 7,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
    Severity.INFO: 365,
    Severity.UNKNOWN: 30,
}


class MoneyModel(_Frozen):
    """Optional FAIR-style estimate inputs: loss range per impact level, frequency per likelihood.

    Keys are levels 1-5; losses are (low, high) in `currency`, frequencies are events per year.
    """

    currency: str = "USD"
    loss_per_impact: dict[int, tuple[float, float]]
    annual_frequency_per_probability: dict[int, float]


DayCount = Annotated[int, Field(ge=1, le=MAX_DAYS)]


class RiskContext(_Frozen):
    """What the policy tells the register about this asset: SLAs, criticality, money, limits.

    Day counts are bounded (1 day to 100 years) so an uploaded verdict cannot push a deadline
    past the calendar.
    """

    sla_days: dict[Severity, DayCount] = Field(default_factory=lambda: dict(DEFAULT_SLA_DAYS))
    business_criticality: Criticality = Criticality.MEDIUM
    data_classification: DataClassification = DataClassification.INTERNAL
    default_owner: str | None = None
    acceptance_max_days: DayCount = 90
    kev_sla_days: DayCount = 14
    money: MoneyModel | None = None


def _new_run_id() -> str:
    return uuid.uuid4().hex


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Verdict(_Frozen):
    """The outcome of one gate run: decision, reasons and every evaluated finding."""

    schema_version: str = SCHEMA_VERSION
    run_id: str = Field(default_factory=_new_run_id)
    decision: Decision
    reasons: tuple[str, ...] = ()
    findings: tuple[EvaluatedFinding, ...] = ()
    fixed: tuple[Finding, ...] = ()  # in the baseline, gone now (diff-aware runs only)
    scanners: tuple[ScannerRun, ...] = ()
    expired_ignores: tuple[ExpiredIgnore, ...] = ()
    decision_sources: tuple[DecisionsNote, ...] = ()
    advisories: AdvisoryData | None = None
    context: RiskContext = Field(default_factory=RiskContext)
    scope: ScanScope = ScanScope.FULL
    baseline_ref: str | None = None
    project: str | None = None
    target: str | None = None
    source_root: str | None = None
    commit: str | None = None
    branch: str | None = None
    policy_name: str | None = None
    policy_digest: str | None = None
    policy_source: str | None = None  # the policy file applied, or bundled:<name>
    started_at: RunTime = Field(default_factory=_utc_now)
    finished_at: RunTime = Field(default_factory=_utc_now)

    def count_by_action(self) -> dict[str, int]:
        """Number of findings per action, every action present."""
        counts = Counter(item.action.value for item in self.findings)
        return {action.value: counts.get(action.value, 0) for action in Action}

    def count_by_severity(self) -> dict[str, int]:
        """Number of findings per severity, every severity present."""
        counts = Counter(item.finding.severity.value for item in self.findings)
        return {severity.value: counts.get(severity.value, 0) for severity in Severity}

    @property
    def exit_code(self) -> int:
        """0 pass or warn, 1 block, 2 a scanner failed and the gate failed closed."""
        return {Decision.PASS: 0, Decision.WARN: 0, Decision.BLOCK: 1, Decision.ERROR: 2}[
            self.decision
        ]
