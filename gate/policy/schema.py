"""The policy as validated data: pydantic models of the YAML file, and its JSON Schema.

Every model forbids unknown keys (a typo is an error, not a silently ignored setting) and is
frozen. `policy_json_schema_text()` is published as `policies/policy.schema.json` so that editors
complete and check policy files.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gate.models import (
    Action,
    Criticality,
    DataClassification,
    DayCount,
    FindingKind,
    MoneyModel,
    RiskContext,
    Severity,
)

SCHEMA_ID = "https://riskgate.dev/policy.schema.json"
_CWE = re.compile(r"^(?:CWE-)?(\d+)\b", re.IGNORECASE)


class _Strict(BaseModel):
    # no policy number means infinity or NaN: `timeout: .inf` is an error, not a hang
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _as_list(value: Any) -> Any:
    """Let a single value stand for a one-item list (`package: jinja2`)."""
    return [value] if isinstance(value, str | bool | int | float) else value


def _non_blank(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # StrictStr reports the wrong type
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


NonBlank = Annotated[StrictStr, BeforeValidator(_non_blank)]
Globs = Annotated[
    tuple[NonBlank, ...],
    BeforeValidator(_as_list, json_schema_input_type=str | list[str]),
]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class RuleAction(StrEnum):
    """What a rule (or the default) does with a finding it matches."""

    BLOCK = "block"
    WARN = "warn"
    PASS = "pass"  # noqa: S105 - an action, not a password

    @property
    def strength(self) -> int:
        """Higher wins when several rules match: block > warn > pass."""
        return {RuleAction.BLOCK: 3, RuleAction.WARN: 2, RuleAction.PASS: 1}[self]

    def to_action(self) -> Action:
        """The verdict's action for this rule action."""
        return Action(self.value)


def normalise_cwe(value: str) -> str:
    """`CWE-89`, `cwe-89`, `89` and `CWE-89: SQL Injection` all become `CWE-89`."""
    found = _CWE.match(value.strip())
    return f"CWE-{found.group(1)}" if found else value.strip().upper()


class MatchSpec(_Strict):
    """Conditions on a finding; all given conditions must hold, a list means any of its items."""

    severity: Annotated[
        tuple[Severity, ...] | None,
        BeforeValidator(_as_list, json_schema_input_type=Severity | list[Severity]),
    ] = None
    min_severity: Severity | None = None
    kind: FindingKind | None = None
    known_exploited: StrictBool | None = None
    epss_min: Probability | None = None
    epss_percentile_min: Probability | None = None
    fix_available: StrictBool | None = None
    cwe: Globs | None = None
    path: Globs | None = None
    package: Globs | None = None
    rule_id: Globs | None = None
    scanner: Globs | None = None

    @field_validator("cwe")
    @classmethod
    def _normalise_cwe(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(normalise_cwe(item) for item in value)

    @field_validator("min_severity")
    @classmethod
    def _known_minimum(cls, value: Severity | None) -> Severity | None:
        if value is Severity.UNKNOWN:
            raise ValueError("min_severity cannot be 'unknown'; set unknown_severity instead")
        return value

    def is_empty(self) -> bool:
        """True when no condition is given (the spec matches every finding)."""
        return not self.model_dump(exclude_none=True)

    def describe(self) -> str:
        """A short form such as `rule_id=PYSEC-2019-1 package=jinja2`."""
        parts = []
        for key, value in self.model_dump(mode="json", exclude_none=True).items():
            text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append(f"{key}={text}")
        return " ".join(parts)


class Rule(_Strict):
    """A named rule: findings it matches get its action."""

    name: NonBlank
    action: RuleAction
    description: str = ""
    match: MatchSpec = Field(default_factory=MatchSpec)


class Ignore(_Strict):
    """A time-boxed suppression: it needs a reason, an owner and an expiry date."""

    name: NonBlank | None = None
    match: MatchSpec
    reason: NonBlank
    owner: NonBlank
    expires: date

    @field_validator("match")
    @classmethod
    def _not_everything(cls, value: MatchSpec) -> MatchSpec:
        if value.is_empty():
            raise ValueError("an ignore must match something specific (an empty match ignores all)")
        return value

    @property
    def label(self) -> str:
        """The ignore's name, else a description of what it matches."""
        return self.name or self.match.describe()

    def expired(self, today: date) -> bool:
        """True after the expiry date (the ignore applies through that day)."""
        return today > self.expires


class _ScannerBase(_Strict):
    enabled: StrictBool = True
    fail_open: StrictBool = False
    timeout: Annotated[float, Field(gt=0, le=86_400)] = 600.0


class PipAuditConfig(_ScannerBase):
    """pip-audit settings; `fail_open: true` lets the gate pass when pip-audit fails."""

    requirements: Globs = ()
    service: Literal["osv", "pypi"] = "osv"


class SemgrepConfig(_ScannerBase):
    """semgrep settings; `configs` are extra rule packs besides riskgate's own.

    `max_target_bytes` is semgrep's file size limit; a bigger file in scope is not scanned and
    becomes a `riskgate-file-not-scanned` finding. `jobs` is semgrep's parallelism; by default
    one job per CPU the gate may use. `honour_nosemgrep: true` lets semgrep drop findings
    marked with an inline `# nosemgrep` comment; off by default, as anyone who can change the
    code could silence a finding that way, unreviewed: the policy's `ignores` (reason, owner,
    expiry) and the register's triage are the reviewed ways.
    """

    configs: Globs = ()
    max_target_bytes: Annotated[int, Field(ge=1, le=2**40)] = 20_000_000
    jobs: Annotated[int, Field(ge=1, le=256)] | None = None
    honour_nosemgrep: bool = False


class ScopeConfig(_Strict):
    """What the code scanners must cover: every file of their rules' languages except these.

    `exclude` takes gitignore-style globs relative to the scanned directory; excluded paths
    are listed as excluded in every report, never as findings.
    """

    exclude: Globs = ()


class ScannersConfig(_Strict):
    """Per-scanner settings, keyed by the scanner's name."""

    pip_audit: PipAuditConfig = Field(default_factory=PipAuditConfig, alias="pip-audit")
    semgrep: SemgrepConfig = Field(default_factory=SemgrepConfig)

    def fail_open(self, scanner: str) -> bool:
        """Whether a failure of `scanner` may be tolerated; unknown scanners fail closed."""
        configs: dict[str, _ScannerBase] = {"pip-audit": self.pip_audit, "semgrep": self.semgrep}
        config = configs.get(scanner)
        return config.fail_open if config else False


class EnrichmentConfig(_Strict):
    """Offline data files; relative paths are resolved against the policy file's folder."""

    advisories: Path | None = None
    kev: Path | None = None
    epss: Path | None = None

    @field_validator("advisories", "kev", "epss")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        base = (info.context or {}).get("base_dir")
        if value is None or value.is_absolute() or base is None:
            return value
        return Path(base) / value


class AdvisoriesConfig(_Strict):
    """How old the advisory data may be (synced, or looked up online) before the gate objects.

    Data older than `max_age_days` (judged from when it was last confirmed current) warns or,
    with `on_stale: block`, blocks the run. Data of unknown age (a directory given with
    `--advisories`) is not judged.
    """

    max_age_days: Annotated[int, Field(ge=1, le=3650)] = 7
    on_stale: Literal["warn", "block"] = "warn"


class SlaDays(_Strict):
    """Days to fix a finding, per severity (`unknown`: `unknown_severity`'s); KEV caps them.

    `known_exploited` applies from first seen to a finding in CISA's KEV catalog when shorter
    than its severity's (CISA's own due date is for US federal agencies and is kept as data).
    """

    critical: DayCount = 7
    high: DayCount = 30
    medium: DayCount = 90
    low: DayCount = 180
    info: DayCount = 365
    unknown: DayCount | None = None
    known_exploited: DayCount = 14


class OwnerRule(_Strict):
    """Who owns findings under a path glob or in a package glob."""

    path: NonBlank | None = None
    package: NonBlank | None = None
    owner: NonBlank

    @model_validator(mode="after")
    def _one_target(self) -> OwnerRule:
        if (self.path is None) == (self.package is None):
            raise ValueError("an owner rule needs exactly one of 'path' or 'package'")
        return self


class OwnersConfig(_Strict):
    """Owner resolution: policy rules first, then CODEOWNERS, then `default`."""

    default: NonBlank | None = None
    use_codeowners: StrictBool = True
    rules: tuple[OwnerRule, ...] = ()


class AssetConfig(_Strict):
    """What is being protected; feeds the register's impact scoring."""

    name: NonBlank | None = None
    business_criticality: Criticality = Criticality.MEDIUM
    data_classification: DataClassification = DataClassification.INTERNAL


class DecisionsConfig(_Strict):
    """Whether triage decisions from outside the policy may unblock findings, and up to what.

    `register`: accepted risks and false positives of the register (`--register`,
    `--database`); `vex`: OpenVEX statements (`--vex`). Findings more severe than
    `max_severity` (unknown read as `unknown_severity`) still block whatever was decided.
    """

    from_register: StrictBool = Field(default=True, alias="register")
    vex: StrictBool = True
    max_severity: Severity = Severity.HIGH

    @field_validator("max_severity")
    @classmethod
    def _known(cls, value: Severity) -> Severity:
        if value is Severity.UNKNOWN:
            raise ValueError("max_severity must be a real severity (e.g. high)")
        return value

    def allows(self, kind: str) -> bool:
        """True when decisions of this kind (`register` or `vex`) are consulted."""
        return self.vex if kind == "vex" else self.from_register


class AcceptanceConfig(_Strict):
    """Limits on risk acceptance in the register."""

    max_days: DayCount = 90


LEVELS = (1, 2, 3, 4, 5)
Level = Annotated[int, Field(ge=1, le=5)]
Money = Annotated[float, Field(ge=0)]


class MoneyConfig(_Strict):
    """FAIR-style inputs: a loss range per impact level and events per year per likelihood."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    loss_per_impact: dict[Level, tuple[Money, Money]]
    annual_frequency_per_probability: dict[Level, Money]

    @field_validator("loss_per_impact")
    @classmethod
    def _ranges(cls, value: dict[int, tuple[float, float]]) -> dict[int, tuple[float, float]]:
        _all_levels(value)
        for level, (low, high) in value.items():
            if low > high:
                raise ValueError(f"level {level}: low {low:g} is above high {high:g}")
        return value

    @field_validator("annual_frequency_per_probability")
    @classmethod
    def _frequencies(cls, value: dict[int, float]) -> dict[int, float]:
        _all_levels(value)
        return value

    def to_model(self) -> MoneyModel:
        """The register's money model."""
        return MoneyModel(
            currency=self.currency,
            loss_per_impact=dict(self.loss_per_impact),
            annual_frequency_per_probability=dict(self.annual_frequency_per_probability),
        )


def _all_levels(value: dict[int, Any]) -> None:
    missing = [level for level in LEVELS if level not in value]
    if missing:
        raise ValueError(f"levels 1-5 are all required; missing {missing}")


_NULLABLE = frozenset({"money", "version", "name"})


class Policy(_Strict):
    """A whole policy file: rules, ignores, scanner settings and the asset's risk context."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              title="riskgate policy")

    version: Literal[1]
    name: NonBlank
    description: str = ""
    unknown_severity: Severity = Severity.HIGH
    default_action: RuleAction = RuleAction.PASS
    rules: tuple[Rule, ...] = ()
    ignores: tuple[Ignore, ...] = ()
    scanners: ScannersConfig = Field(default_factory=ScannersConfig)
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    enrichment: EnrichmentConfig = Field(default_factory=EnrichmentConfig)
    advisories: AdvisoriesConfig = Field(default_factory=AdvisoriesConfig)
    sla_days: SlaDays = Field(default_factory=SlaDays)
    owners: OwnersConfig = Field(default_factory=OwnersConfig)
    asset: AssetConfig = Field(default_factory=AssetConfig)
    acceptance: AcceptanceConfig = Field(default_factory=AcceptanceConfig)
    decisions: DecisionsConfig = Field(default_factory=DecisionsConfig)
    money: MoneyConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """`ignores:` with every entry commented out is YAML null: read it as empty."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k in _NULLABLE}
        return data

    @field_validator("unknown_severity")
    @classmethod
    def _known(cls, value: Severity) -> Severity:
        if value is Severity.UNKNOWN:
            raise ValueError("unknown_severity must be a real severity (e.g. high)")
        return value

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, value: tuple[Rule, ...]) -> tuple[Rule, ...]:
        seen: set[str] = set()
        for rule in value:
            if rule.name in seen:
                raise ValueError(f"rule name '{rule.name}' is used twice")
            seen.add(rule.name)
        return value

    def effective_severity(self, severity: Severity) -> Severity:
        """`unknown` read as the policy's `unknown_severity`; other severities unchanged."""
        return self.unknown_severity if severity is Severity.UNKNOWN else severity

    def sla_for(self) -> dict[Severity, int]:
        """Days to fix per severity, every severity present."""
        sla = self.sla_days
        days = {
            Severity.CRITICAL: sla.critical,
            Severity.HIGH: sla.high,
            Severity.MEDIUM: sla.medium,
            Severity.LOW: sla.low,
            Severity.INFO: sla.info,
        }
        days[Severity.UNKNOWN] = sla.unknown or days[self.unknown_severity]
        return days

    def risk_context(self) -> RiskContext:
        """What the register needs to know from the policy about this asset."""
        return RiskContext(
            sla_days=self.sla_for(),
            business_criticality=self.asset.business_criticality,
            data_classification=self.asset.data_classification,
            default_owner=self.owners.default,
            acceptance_max_days=self.acceptance.max_days,
            kev_sla_days=self.sla_days.known_exploited,
            money=self.money.to_model() if self.money else None,
        )

    @property
    def digest(self) -> str:
        """sha256 of the normalised policy (enrichment file locations excluded: they vary)."""
        content = self.model_dump(mode="json", by_alias=True, exclude={"enrichment"})
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file (draft 2020-12), as editors and CI read it."""
    schema = Policy.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def policy_json_schema_text() -> str:
    """The JSON Schema as text; `gate policy schema > policies/policy.schema.json` publishes it."""
    return json.dumps(policy_json_schema(), indent=2, sort_keys=True)


def known_keys() -> frozenset[str]:
    """Every key a policy may contain at any level (to suggest a fix for a typo)."""
    keys: set[str] = set()
    stack: list[type[BaseModel]] = [Policy]
    while stack:
        model = stack.pop()
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
            stack.extend(_models_in(field.annotation))
    return frozenset(keys)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(_models_in(arg))
    return found
