"""Read a verdict JSON file piece by piece: its header first, then one finding at a time.

A 100,000-finding verdict is about 65 MB of JSON; parsed whole into models it peaks near 1 GB.
Here memory stays flat: a first pass reads every top-level field except `findings` (stepping over
the findings one by one) into a `Verdict` without findings; `findings()` then yields each finding
validated as `EvaluatedFinding`. The JSON is read in 1 MiB chunks with the standard library's
decoder, one value at a time; the first pass also notes where each batch of findings lies, so
the second validates a batch's text straight from JSON (pydantic's parser, no Python dicts).
Read `fast`, the first pass finds the batches by searching the text for where findings start
instead of decoding each (a tenth of the time); a batch that is then not what the exact reader
would read raises `SplitMissed`, and `exactly_on_refusal` does the work again on the exact read.
Any problem is a `RegisterInputError` naming the file and the place (line and column, or the
field path such as `findings.12.finding.severity`). A verdict may also be read from a field of
the file's top-level object (`within`: a spool file's `verdict`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import TypeAdapter, ValidationError

from gate.models import EvaluatedFinding, Verdict
from gate.safe_input import MAX_DEPTH, nesting_depth, open_regular_file
from register.errors import RegisterInputError, field_path

CHUNK_CHARS = 1 << 20
MAX_VALUE_CHARS = 64 << 20  # one finding or header field; more is no verdict
_WHITESPACE = " \t\n\r"
# `\u0000` and surrogate escapes: the texts they decode to may not be storable (NUL, or a
# lone surrogate, which no UTF-8 can encode); only a verdict holding one is checked for them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
BATCH = 256  # findings validated together from their JSON text
_BATCH_OF_FINDINGS = TypeAdapter(list[EvaluatedFinding])
# The fast split's mark: a finding starts where `,` `{` `"finding":` follow one another, with
# only JSON white space between them (the gate writes them so, compact or indented).
_ITEM_KEY = '"finding":'
# Text the fast split holds after the last mark it found before it steps on exactly.
_HELD_CHARS = 4 * CHUNK_CHARS
# What pydantic's JSON parser reads but the exact reader refuses ("NaN is not a JSON number").
_CONSTANTS = ("NaN", "Infinity")
T = TypeVar("T")


class VerdictFileError(RegisterInputError):
    """A file that is no readable verdict; `str()` names the file, `detail` only the problem."""

    def __init__(self, path: Path, detail: str, *, field: str | None = None) -> None:
        super().__init__(f"{path}: {detail}")
        self.detail = detail
        self.field = field  # the invalid field's path, for schema errors

    def request_message(self) -> str:
        """The problem as the API words an invalid request body."""
        if self.field is not None:
            return f"invalid request: {self.detail.removeprefix('not a verdict: ')}"
        return f"invalid request: {self.detail}"


class SplitMissed(Exception):  # noqa: N818 - a signal to read again, not a failure
    """A batch found by the fast split is not what the exact reader would read there."""


class _NotJson(ValueError):
    """A syntax error at an absolute character offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


class _Reader:
    """JSON values one at a time from a text stream, holding about one chunk in memory."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.buffer = ""
        self.pos = 0
        self.offset = 0  # characters dropped before `buffer`
        self.eof = False
        self.saw_nul_escape = False

    def tell(self) -> int:
        """Absolute character offset of the next unread character."""
        return self.offset + self.pos

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(max(CHUNK_CHARS, len(self.buffer) - self.pos))
        if not chunk:
            self.eof = True
            return False
        tail = self.buffer[self.pos :]
        # An escape may straddle two chunks: look at the seam too.
        if _SUSPECT_ESCAPE.search(chunk) or _SUSPECT_ESCAPE.search(tail[-5:] + chunk[:5]):
            self.saw_nul_escape = True
        self.offset += self.pos
        self.buffer, self.pos = tail + chunk, 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end), without consuming it."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def expect(self, chars: str) -> str:
        """Consume one of `chars` (after whitespace) and return it."""
        found = self.peek()
        if not found or found not in chars:
            wanted = " or ".join(repr(c) for c in chars)
            shown = repr(found) if found else "the end of the file"
            raise _NotJson(f"expected {wanted}, found {shown}", self.tell())
        self.pos += 1
        return found

    def value(self) -> Any:
        """Decode the next complete JSON value."""
        self.peek()
        while True:
            try:
                decoded, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buffer) - self.pos <= MAX_VALUE_CHARS and self._fill():
                    continue
                raise _NotJson(exc.msg, self.offset + exc.pos) from exc
            except ValueError as exc:
                raise _NotJson(str(exc), self.tell()) from exc
            except RecursionError as exc:
                raise _NotJson(f"nested deeper than {MAX_DEPTH} levels", self.tell()) from exc
            if self._may_nest_deeply(end) and nesting_depth(decoded, limit=MAX_DEPTH) > MAX_DEPTH:
                raise _NotJson(f"nested deeper than {MAX_DEPTH} levels", self.tell())
            # A number cut by the chunk's end would decode short: read on and decode again.
            if end == len(self.buffer) and self._fill():
                continue
            self.pos = end
            return decoded

    def _may_nest_deeply(self, end: int) -> bool:
        """Whether the value's text opens more than `MAX_DEPTH` brackets in all (brackets in
        strings included), the only way it can nest that deep: most values are not walked."""
        opened = self.buffer.count("[", self.pos, end) + self.buffer.count("{", self.pos, end)
        return opened > MAX_DEPTH

    def take(self, end: int) -> str:
        """The text from the next unread character up to absolute offset `end`, consumed."""
        parts = []
        while self.offset + len(self.buffer) < end:
            parts.append(self.buffer[self.pos :])
            self.pos = len(self.buffer)
            if not self._fill():
                raise _NotJson("the file changed while it was read", self.tell())
        stop = end - self.offset
        parts.append(self.buffer[self.pos : stop])
        self.pos = stop
        return "".join(parts)


@dataclass(frozen=True, kw_only=True)
class VerdictFile:
    """A verdict JSON file read as a header and a stream of findings."""

    path: Path
    header: Verdict  # every field but `findings` (empty here)
    finding_count: int
    findings_at: int | None  # character offset of the `findings` array, if any
    may_hold_nul: bool  # a `\\u0000` or surrogate escape occurs somewhere in the text
    # (start, end) character offsets of each batch of `BATCH` findings (the last may be short)
    batches: tuple[tuple[int, int], ...] = ()
    # False: the batches were found by the fast split and their findings not read yet, so
    # `findings()` raises `SplitMissed` where the exact reader might read otherwise
    exact: bool = True
    within: str | None = None  # the field of a top-level object that holds the verdict
    span: tuple[int, int] = (0, 0)  # character offsets of the verdict's text in the file
    outer: dict[str, Any] = field(default_factory=dict)  # `within`: the object's other fields

    def findings(self) -> Iterator[EvaluatedFinding]:
        """Each finding, validated, in file order (a batch's JSON text at a time)."""
        if not self.batches:
            return
        with _open(self.path) as handle:
            reader = _Reader(handle)
            for number, (start, end) in enumerate(self.batches):
                try:
                    _skip_chars(reader, start)
                    text = reader.take(end)
                except _NotJson as exc:
                    if not self.exact:
                        raise SplitMissed from exc
                    raise _syntax_error(self.path, exc) from exc
                if not self.exact and _beyond_pydantic(text):
                    raise SplitMissed
                try:
                    yield from _BATCH_OF_FINDINGS.validate_json(f"[{text}]")
                except ValidationError as exc:
                    if not self.exact:
                        raise SplitMissed from exc
                    raise _invalid_batch(self.path, exc, first=number * BATCH, text=text) from exc

    def raw_findings(self) -> Iterator[tuple[int, Any]]:
        """Each finding as decoded JSON, with its index (for checks beyond the schema)."""
        if self.findings_at is None:
            return
        with _open(self.path) as handle:
            reader = _Reader(handle)
            try:
                _skip_chars(reader, self.findings_at)
                reader.expect("[")
                if reader.peek() == "]":
                    return
                index = 0
                while True:
                    yield index, reader.value()
                    index += 1
                    if reader.expect(",]") == "]":
                        return
            except _NotJson as exc:
                raise _syntax_error(self.path, exc) from exc


    def text(self) -> Iterator[str]:
        """The verdict's JSON text as it is in the file, a chunk at a time."""
        start, end = self.span
        with _open(self.path) as handle:
            for _ in _chars(self.path, handle, start):
                pass
            yield from _chars(self.path, handle, end - start)


def _chars(path: Path, handle: TextIO, count: int) -> Iterator[str]:
    """The next `count` characters of `handle`, a chunk at a time."""
    while count > 0:
        chunk = handle.read(min(CHUNK_CHARS, count))
        if not chunk:
            raise VerdictFileError(path, "the file changed while it was read")
        count -= len(chunk)
        yield chunk


def read_verdict_file(
    path: Path, *, fast: bool = False, within: str | None = None
) -> VerdictFile:
    """Read `path`'s header and count its findings; `RegisterInputError` when it is no verdict.

    `within` names the field of the file's top-level object that holds the verdict (a spool
    file's `verdict`); its other fields are read over.

    `fast` finds where the findings lie by searching their text instead of reading each one
    (see `_skip_array`); the file's findings are then read only by `findings()`, which raises
    `SplitMissed` on any batch the exact reader could read otherwise: use `exactly_on_refusal`.
    When the fast read meets any problem, the file is read exactly (its errors are those).
    """
    if fast:
        try:
            return _read_verdict_file(path, fast=True, within=within)
        except RegisterInputError:
            pass
    return _read_verdict_file(path, fast=False, within=within)


def exactly_on_refusal(
    verdict: VerdictFile,
    use: Callable[[VerdictFile], T],
    *,
    refusals: tuple[type[Exception], ...] = (RegisterInputError,),
) -> T:
    """`use(verdict)`; when it raises `SplitMissed` or one of `refusals` and the verdict was
    read fast, `use` the file read exactly instead, so that every outcome but success is the
    exact reader's (`use` must leave nothing behind when it raises)."""
    try:
        return use(verdict)
    except Exception as exc:
        if verdict.exact or not isinstance(exc, (SplitMissed, *refusals)):
            raise
    return use(read_verdict_file(verdict.path, within=verdict.within))


def _read_verdict_file(path: Path, *, fast: bool, within: str | None) -> VerdictFile:
    try:
        with _open(path) as handle:
            reader = _Reader(handle)
            outer: dict[str, Any] = {}
            if within is None:
                (fields, count, findings_at, batches), span = _spanned(reader, fast=fast)
                _expect_end(reader)
            else:
                (fields, count, findings_at, batches), span, outer = _field(
                    reader, within, fast=fast)
            saw_nul = reader.saw_nul_escape or bool(_SUSPECT_ESCAPE.search(reader.buffer))
    except _NotJson as exc:
        raise _syntax_error(path, exc) from exc
    except OSError as exc:
        raise VerdictFileError(path, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise VerdictFileError(path, f"not UTF-8 text (byte {exc.start})") from exc
    if not isinstance(fields, dict):
        raise VerdictFileError(path, "not a verdict: (document): not a JSON object")
    if saw_nul and (where := surrogate_field(fields)) is not None:
        raise VerdictFileError(
            path, f"not a verdict: {where}: holds a lone surrogate (\\ud800-\\udfff without "
            "its pair), which is not text", field=where,
        )
    try:
        header = Verdict.model_validate(fields)
    except ValidationError as exc:
        raise _invalid(path, exc) from exc
    return VerdictFile(path=path, header=header, finding_count=count, findings_at=findings_at,
                       may_hold_nul=saw_nul, batches=batches, exact=not fast or not batches,
                       within=within, span=span, outer=outer)


Batches = tuple[tuple[int, int], ...]
Read = tuple[Any, int, int | None, Batches]  # fields but findings, count, where, batches


def _spanned(reader: _Reader, *, fast: bool) -> tuple[Read, tuple[int, int]]:
    """`_verdict`, and the character offsets of its text."""
    reader.peek()
    start = reader.tell()
    found = _verdict(reader, fast=fast)
    return found, (start, reader.tell())


def _field(
    reader: _Reader, name: str, *, fast: bool
) -> tuple[Read, tuple[int, int], dict[str, Any]]:
    """`_spanned` for the verdict held by field `name` of the top-level object, and the
    object's other fields."""
    reader.expect("{")
    found: tuple[Read, tuple[int, int]] | None = None
    outer: dict[str, Any] = {}
    while reader.peek() != "}":  # after `{` only: a `,` must be followed by a field
        key = reader.value()
        if not isinstance(key, str):
            raise _NotJson("expected a field name", reader.tell())
        reader.expect(":")
        if key != name:
            outer[key] = reader.value()
        elif found is None:
            found = _spanned(reader, fast=fast)
        else:
            raise _NotJson(f"a second field {name!r}", reader.tell())
        if reader.expect(",}") == "}":
            break
        if reader.peek() == "}":
            raise _NotJson("expected a field name", reader.tell())
    if found is None:
        raise _NotJson(f"no field {name!r} in the top-level object", reader.tell())
    _expect_end(reader)
    return found[0], found[1], outer


def _verdict(reader: _Reader, *, fast: bool) -> Read:
    """The next value (the top-level object: fields but findings, the findings' count, where
    they start and their batches); an object's findings are stepped over, not kept."""
    if reader.peek() != "{":
        return reader.value(), 0, None, ()
    reader.expect("{")
    fields: dict[str, Any] = {}
    count, findings_at = 0, None
    batches: Batches = ()
    if reader.peek() == "}":
        reader.expect("}")
        return fields, count, findings_at, batches
    while True:
        key = reader.value()
        if not isinstance(key, str):
            raise _NotJson("expected a field name", reader.tell())
        reader.expect(":")
        if key == "findings" and reader.peek() == "[":
            findings_at = reader.tell()
            count, batches = _skip_array(reader, fast=fast)
            fields.pop("findings", None)
        else:
            fields[key] = reader.value()
            if key == "findings":
                findings_at, batches = None, ()
        if reader.expect(",}") == "}":
            return fields, count, findings_at, batches


def _skip_array(reader: _Reader, *, fast: bool) -> tuple[int, Batches]:
    """Step over an array value, decoding one item at a time; its length and batches.

    A batch is the text of up to `BATCH` items and the commas between them: wrapped in
    brackets, it is a JSON array again. `fast` first steps from mark to mark (`_marked_items`)
    and decodes only the items after the last mark.
    """
    reader.expect("[")
    if reader.peek() == "]":
        reader.expect("]")
        return 0, ()
    batches: list[tuple[int, int]] = []
    count, start = _marked_items(reader, batches) if fast else (0, reader.tell())
    while True:
        reader.value()
        count += 1
        end = reader.tell()
        last = reader.expect(",]") == "]"
        if last or count % BATCH == 0:
            batches.append((start, end))
            start = reader.tell()
        if last:
            return count, tuple(batches)


def _marked_items(reader: _Reader, batches: list[tuple[int, int]]) -> tuple[int, int]:
    """Step over the items of an array that each follow a mark (`_ITEM_KEY` after `{` after
    `,`), searching the text for the marks instead of decoding it; the items stepped over and
    the current batch's start, with the reader at the start of the item after the last mark.

    Found at C speed, a mark is trusted unread: one inside a string cannot be (its quotes
    would be escaped), one deeper in an item or after the array puts a batch's edge inside a
    value, so that batch is not a JSON array and `findings()` says `SplitMissed`. Each batch
    that is one is exactly the items it holds, JSON being read one way only.
    """
    count, start, look = 0, reader.tell(), reader.pos
    while True:
        buffer = reader.buffer
        found = buffer.find(_ITEM_KEY, look)
        if found < 0:
            look = max(reader.pos, len(buffer) - len(_ITEM_KEY) + 1)
            dropped = reader.pos
            if len(buffer) - reader.pos > _HELD_CHARS or not reader._fill():
                return count, start
            look -= dropped
            continue
        look = found + len(_ITEM_KEY)
        # Past the current item's start only: a mark ends the item that begins there.
        brace = _before_space(buffer, found, floor=reader.pos)
        if brace <= reader.pos or buffer[brace] != "{":
            continue
        comma = _before_space(buffer, brace, floor=reader.pos)
        if comma <= reader.pos or buffer[comma] != ",":
            continue
        count += 1
        if count % BATCH == 0:
            batches.append((start, reader.offset + _before_space(buffer, comma, floor=0) + 1))
            start = reader.offset + comma + 1
        reader.pos = brace


def _before_space(text: str, index: int, *, floor: int) -> int:
    """The index of the last character before `index` that is no JSON white space (at least
    `floor` - 1)."""
    index -= 1
    while index >= floor and text[index] in _WHITESPACE:
        index -= 1
    return index


def _beyond_pydantic(text: str) -> bool:
    """Whether a batch may hold what pydantic's JSON parser reads and the exact one refuses:
    `NaN` or `Infinity` (perhaps inside a string), or a value longer than a value may be."""
    return len(text) > MAX_VALUE_CHARS or any(word in text for word in _CONSTANTS)


def _expect_end(reader: _Reader) -> None:
    if reader.peek():
        raise _NotJson("extra data after the verdict", reader.tell())


def _skip_chars(reader: _Reader, count: int) -> None:
    while reader.offset + len(reader.buffer) < count:
        reader.pos = len(reader.buffer)
        if not reader._fill():
            raise _NotJson("the file changed while it was read", reader.tell())
    reader.pos = count - reader.offset


def _open(path: Path) -> TextIO:
    """The file as text, if it is a regular file (a FIFO would block the reader)."""
    # newline="" keeps offsets exact: no newline translation between the two passes.
    return io.TextIOWrapper(open_regular_file(path), encoding="utf-8", newline="")


def _line_column(path: Path, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (read again only to report an error)."""
    line, column, seen = 1, 1, 0
    with _open(path) as handle:
        while seen < offset:
            chunk = handle.read(min(CHUNK_CHARS, offset - seen))
            if not chunk:
                break
            newlines = chunk.count("\n")
            if newlines:
                line += newlines
                column = len(chunk) - chunk.rfind("\n")
            else:
                column += len(chunk)
            seen += len(chunk)
    return line, column


def _syntax_error(path: Path, exc: _NotJson) -> VerdictFileError:
    line, column = _line_column(path, exc.offset)
    return VerdictFileError(path, f"not valid JSON at line {line} column {column}: {exc}")


def surrogate_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in `value` holding a lone surrogate."""
    if isinstance(value, str):
        return path if _LONE_SURROGATE.search(value) else None
    items: Any = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        inner = f"{path}.{field_path([key])}" if path else field_path([key])
        if isinstance(key, str) and _LONE_SURROGATE.search(key):
            return inner
        if (found := surrogate_field(item, inner)) is not None:
            return found
    return None


def _invalid_batch(
    path: Path, exc: ValidationError, *, first: int, text: str
) -> VerdictFileError:
    """`_invalid` for a batch whose first finding is number `first` of the file."""
    loc = exc.errors()[0]["loc"]
    if not loc:  # pydantic refused the batch's text itself: Python's JSON reads lone surrogates
        found = surrogate_field(json.loads(f"[{text}]"))
        if found is None:
            where, reason = f"findings.{first}-{first + BATCH - 1}", str(exc.errors()[0]["msg"])
        else:
            number, _, inner = found.partition(".")
            where = ".".join(part for part in (f"findings.{first + int(number)}", inner) if part)
            # `inner` was built by `surrogate_field` with `field_path` already
            reason = "holds a lone surrogate (\\ud800-\\udfff without its pair), which is not text"
        return VerdictFileError(path, f"not a verdict: {where}: {reason}", field=where)
    index, *rest = loc
    where = field_path((f"findings.{first + int(index)}", *rest))
    return VerdictFileError(path, f"not a verdict: {where}: {exc.errors()[0]['msg']}", field=where)


def _invalid(path: Path, exc: ValidationError, *, prefix: str = "") -> VerdictFileError:
    problem = exc.errors()[0]
    where = field_path((*([prefix] if prefix else []), *problem["loc"]))
    where = where or "(document)"
    return VerdictFileError(path, f"not a verdict: {where}: {problem['msg']}", field=where)
