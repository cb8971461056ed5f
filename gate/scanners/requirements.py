"""Read requirements files without running anything: what pip-audit may audit, what it may not.

A security gate on a pull request must never execute the pull request. Given a local path,
`-e .`, `file:`, a VCS or archive URL, or `name @ url`, pip builds that code (running its
build backend) even for a dry run. So riskgate reads requirements itself, following `-r` and
`-c` includes only inside the allowed directories, keeps the named requirements (which pip
resolves from wheels only, see `pip_audit.NO_BUILD_ENV`) and reports every other line as
`Unaudited` with the reason and the place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from gate.errors import ConfigError
from gate.fingerprint import package_key

MAX_FILE_BYTES = 5_000_000
MAX_FILES = 200
_PIN = re.compile(r"^[^<>!~=;]*?===?\s*[^\s;=<>!~,*]+\s*(;.*)?$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_VCS = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVES = (".whl", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz")
_HASH = re.compile(r"--hash[=\s]\s*([A-Za-z0-9]+:[0-9A-Fa-f]+)")
_LINE_OPTION = re.compile(r"\s--?[A-Za-z]")
_INCLUDES = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}
_EDITABLE = ("-e", "--editable")
# Index options only choose where wheels come from; every other file option is dropped.
_KEPT_OPTIONS = ("-i", "--index-url", "--extra-index-url", "--no-index", "--pre", "--trusted-host")
_NEVER_BUILT = "riskgate never builds or runs code from the scanned tree"


@dataclass(frozen=True, kw_only=True)
class Unaudited:
    """A dependency riskgate will not hand to pip-audit, why, and where it was declared."""

    name: str
    reason: str
    where: str


@dataclass(frozen=True, kw_only=True)
class Declared:
    """Where a requirement file names a package: the file (of `-r` includes, the one that
    declares it), the place, and the requirement as written (normalised)."""

    name: str
    file: str
    where: str
    requirement: str


def is_pin(requirement: str) -> bool:
    """True for an exact `==`/`===` pin (hashes and markers allowed)."""
    return bool(_PIN.match(requirement.split(" --hash", 1)[0]))


@dataclass(frozen=True, kw_only=True)
class AuditInput:
    """What one manifest asks pip-audit to audit, flattened, plus what it cannot audit.

    `declared` says, for requirement files, which file and line names each requirement.
    """

    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    unaudited: tuple[Unaudited, ...] = ()
    declared: tuple[Declared, ...] = ()

    @property
    def pinned(self) -> bool:
        """True when every requirement is an exact pin: audited with no resolution at all."""
        return all(is_pin(line) for line in self.requirements)

    @property
    def unpinned(self) -> tuple[str, ...]:
        """The requirements that are not exact pins (pip resolves them)."""
        return tuple(line.split(" --hash", 1)[0] for line in self.requirements
                     if not is_pin(line))


@dataclass
class _Collected:
    requirements: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    unaudited: list[Unaudited] = field(default_factory=list)
    declared: list[Declared] = field(default_factory=list)
    files: int = 0


def read_requirements(path: Path, *, display: str, allowed: tuple[Path, ...]) -> AuditInput:
    """Flatten a requirements file and its includes (which must stay under `allowed`).

    The top file is the operator's: an unreadable one is a `ConfigError`. Problems of
    included files (missing, outside `allowed`, a loop, too big) become `Unaudited` entries.
    """
    text = read_bounded(path)
    if text is None:
        raise ConfigError(f"{display}: cannot read requirements file (not a UTF-8 text file "
                          f"of at most {MAX_FILE_BYTES} bytes)")
    reader = _Reader(allowed=tuple(a.resolve() for a in allowed), collected=_Collected())
    reader.walk(text, path=path, display=display, constraint=False, stack=(path.resolve(),))
    c = reader.collected
    return AuditInput(requirements=tuple(dict.fromkeys(c.requirements)),
                      constraints=tuple(dict.fromkeys(c.constraints)),
                      options=tuple(dict.fromkeys(c.options)), unaudited=tuple(c.unaudited),
                      declared=tuple(c.declared))


def classify(line: str, *, where: str) -> str | Unaudited:
    """A named requirement (normalised, hashes kept) or why it is not audited."""
    spec = _LINE_OPTION.split(line, maxsplit=1)[0].strip()
    hashes = _HASH.findall(line)
    problem = _unbuildable(spec)
    if problem:
        return Unaudited(name=spec, reason=f"{problem}; {_NEVER_BUILT}", where=where)
    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        reason = "not a named requirement pip could resolve without building it"
        return Unaudited(name=spec, reason=reason, where=where)
    if requirement.url:
        reason = f"direct reference to {requirement.url}; {_NEVER_BUILT}"
        return Unaudited(name=requirement.name, reason=reason, where=where)
    return " ".join([str(requirement), *(f"--hash={h}" for h in hashes)])


def _declared(requirement: str, *, file: str, where: str) -> Declared:
    plain = requirement.split(" --hash", 1)[0]
    name = Requirement(plain).name  # a classified requirement always parses
    return Declared(name=package_key(name), file=file, where=where, requirement=plain)


def _unbuildable(spec: str) -> str | None:
    head = spec.split(";", 1)[0].strip()
    if head.startswith(_VCS):
        return "VCS requirement"
    if _URL.match(head) and not re.match(r"^[A-Za-z0-9._-]+\s*(\[|@|[<>=!~]|$)", head):
        return "URL requirement"
    if head.startswith((".", "/", "~", "\\")) or "/" in head.split("@")[0] or "\\" in head:
        return "local path requirement"
    if head.lower().endswith(_ARCHIVES):
        return "archive requirement"
    return None


@dataclass
class _Reader:
    allowed: tuple[Path, ...]
    collected: _Collected

    def walk(
        self, text: str, *, path: Path, display: str, constraint: bool, stack: tuple[Path, ...]
    ) -> None:
        self.collected.files += 1
        for number, line in logical_lines(text):
            where = f"{display}:{number}"
            if line.startswith("-"):
                self._option(line, where=where, path=path, constraint=constraint, stack=stack)
                continue
            result = classify(line, where=where)
            if isinstance(result, Unaudited):
                self.collected.unaudited.append(result)
            elif constraint:
                self.collected.constraints.append(result.split(" --hash", 1)[0])
            else:
                self.collected.requirements.append(result)
                self.collected.declared.append(_declared(result, file=display, where=where))

    def _option(
        self, line: str, *, where: str, path: Path, constraint: bool, stack: tuple[Path, ...]
    ) -> None:
        name, value = _split_option(line)
        if name in _INCLUDES:
            self._include(value, where=where, parent=path, constraint=_INCLUDES[name] or
                          constraint, stack=stack)
        elif name in _EDITABLE:
            reason = f"editable requirement; {_NEVER_BUILT}"
            self.collected.unaudited.append(Unaudited(name=value, reason=reason, where=where))
        elif name in _KEPT_OPTIONS and not constraint:
            self.collected.options.append(f"{name} {value}".strip())

    def _include(
        self, value: str, *, where: str, parent: Path, constraint: bool, stack: tuple[Path, ...]
    ) -> None:
        problem, target = self._resolve(value, parent=parent, stack=stack)
        text = None if problem else read_bounded(target)
        if problem is None and text is None:
            problem = f"not a UTF-8 text file of at most {MAX_FILE_BYTES} bytes"
        if problem or text is None:
            reason = f"included file not read: {problem}"
            self.collected.unaudited.append(Unaudited(name=value, reason=reason, where=where))
            return
        self.walk(text, path=target, display=self._display(target, value), constraint=constraint,
                  stack=(*stack, target))

    def _resolve(self, value: str, *, parent: Path, stack: tuple[Path, ...]) -> tuple[str | None,
                                                                                     Path]:
        if not value:
            return "no file named", parent
        if _URL.match(value) and not re.match(r"^[A-Za-z]:[\\/]", value):
            return "a URL (riskgate reads only files of the scanned tree)", parent
        try:
            target = (parent.parent / Path(value).expanduser()).resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            return f"cannot open ({_reason(exc)})", parent
        if target in stack:
            return "include loop", target
        if not any(target.is_relative_to(root) for root in self.allowed):
            return "outside the scanned tree", target
        if not target.is_file():
            return "not a regular file", target
        if self.collected.files >= MAX_FILES:
            return f"more than {MAX_FILES} included files", target
        return None, target

    def _display(self, target: Path, value: str) -> str:
        for root in self.allowed:
            if target.is_relative_to(root):
                return target.relative_to(root).as_posix()
        return value


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Requirement lines with their first line number: continuations joined, comments cut."""
    start, parts = 0, list[str]()
    for number, physical in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        if physical.endswith("\\"):
            parts.append(physical[:-1])
            continue
        parts.append(physical)
        content = re.split(r"(^|\s)#", " ".join(parts), maxsplit=1)[0].strip()
        parts = []
        if content:
            yield start, content
    if parts:
        content = re.split(r"(^|\s)#", " ".join(parts), maxsplit=1)[0].strip()
        if content:
            yield start, content


def _split_option(line: str) -> tuple[str, str]:
    match = re.match(r"^(--[A-Za-z-]+)(?:[=\s]\s*(.*))?$", line)
    if match:
        return match.group(1), (match.group(2) or "").strip()
    return line[:2], line[2:].lstrip("= \t").strip()


def read_bounded(path: Path) -> str | None:
    """The text of a regular file of bounded size, or None (never reads a device or FIFO)."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        return None if len(data) > MAX_FILE_BYTES else data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RuntimeError):
        return "symlink loop"
    return getattr(exc, "strerror", None) or type(exc).__name__
