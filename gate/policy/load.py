"""Load a policy file: YAML with line numbers, then validation, errors as `file:line:column: ...`.

The YAML is composed into a node tree first (which keeps each key's and value's position),
checked for duplicate keys, then constructed and validated by pydantic. Before that, the file
is bounded: at most `MAX_POLICY_BYTES`, nested at most `MAX_DEPTH` deep (counted on the event
stream, without recursion) and expanding to at most `MAX_NODES` nodes, so nested aliases (a
"billion laughs") are refused at once instead of burning CPU. A validation error's
location is walked back through the node tree so the message points at the offending key (an
unknown key) or value (a bad value) in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from gate.errors import PolicyError
from gate.policy.schema import Policy, known_keys
from gate.safe_input import read_regular_file, storable

Loc = tuple[int | str, ...]
MAX_POLICY_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 100_000
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose invalid dates are YAML errors with a position, not bare ValueErrors."""

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> date:
        """Construct a timestamp, reporting an impossible date at its node."""
        try:
            value: date = self.construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r}: {exc}", node.start_mark
            ) from exc
        return value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_checked_timestamp)


def load_policy(path: Path, *, base_dir: Path | None = None) -> Policy:
    """Read and validate the policy at `path`; raise `PolicyError` naming file:line:column.
    Relative paths in it point from `base_dir` (default: the file's directory)."""
    raw = read_regular_file(path, limit=MAX_POLICY_BYTES, error=PolicyError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: cannot read: not UTF-8 text ({exc.reason})") from exc
    return parse_policy(text, source=str(path), base_dir=base_dir or path.absolute().parent)


def parse_policy(text: str, *, source: str, base_dir: Path | None = None) -> Policy:
    """Validate policy YAML; `source` names it in errors, `base_dir` anchors relative paths."""
    root, data = _read_yaml(text, source=source)
    try:
        return Policy.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise PolicyError(_validation_message(exc, root, source)) from exc


def _position(source: str, mark: Any) -> str:
    """`file:line:column` of a YAML mark (1-based), or the start of the file."""
    if mark is None:
        return f"{source}:1:1"
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


def _read_yaml(text: str, *, source: str) -> tuple[yaml.MappingNode, Any]:
    """Compose, check and construct the document; the root must be a mapping."""
    _check_depth(text, source)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise PolicyError(f"{source}:1:1: the policy is empty (expected a mapping of keys)")
        if not isinstance(root, yaml.MappingNode):
            raise PolicyError(
                f"{_position(source, root.start_mark)}: a policy must be a mapping of keys, "
                f"not a {_node_kind(root)}"
            )
        _check_expansion(root, source)
        _reject_duplicate_keys(root, source)
        return root, storable(loader.construct_document(root), text)
    except yaml.MarkedYAMLError as exc:
        raise PolicyError(_yaml_message(exc, source)) from exc
    finally:
        loader.dispose()


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before composing (which recurses per level)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise PolicyError(f"{_position(source, event.start_mark)}: nested deeper "
                                      f"than {MAX_DEPTH} levels")
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        raise PolicyError(_yaml_message(exc, source)) from exc
    except yaml.reader.ReaderError as exc:  # a control character: no mark, a position
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        problem = str(exc).splitlines()[0]
        raise PolicyError(f"{source}:{line}:{column}: invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PolicyError(f"{source}:1:1: invalid YAML: {problem}") from exc


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse a document whose aliases expand it past MAX_NODES (each alias counts in full)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) not in sizes:
            children: list[yaml.Node] = []
            if isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            sizes[id(node)] = min(MAX_NODES + 1, 1 + sum(size(child) for child in children))
        return sizes[id(node)]

    if size(root) > MAX_NODES:
        raise PolicyError(f"{_position(source, root.start_mark)}: the policy expands to more "
                          f"than {MAX_NODES} values (nested YAML aliases?)")


def _yaml_message(exc: yaml.MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return f"{_position(source, mark)}: invalid YAML: {problem}{context}"


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "mapping" if isinstance(node, yaml.MappingNode) else "scalar"


def _reject_duplicate_keys(node: yaml.Node, source: str) -> None:
    """YAML silently keeps the last of duplicate keys; in a policy that hides a mistake."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                first = seen[key.value].start_mark.line + 1
                raise PolicyError(
                    f"{_position(source, key.start_mark)}: duplicate key '{key.value}' "
                    f"(first defined on line {first})"
                )
            if isinstance(key, yaml.ScalarNode):
                seen[key.value] = key
            _reject_duplicate_keys(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _reject_duplicate_keys(item, source)


def _validation_message(exc: ValidationError, root: yaml.Node, source: str) -> str:
    """The first error in file order, with its position, plus how many more there are."""
    located = [_locate_error(error, root) for error in exc.errors()]
    located.sort(key=lambda item: (item[0].line, item[0].column))
    mark, message = located[0]
    more = f" (and {len(located) - 1} more)" if len(located) > 1 else ""
    return f"{_position(source, mark)}: {message}{more}"


def _locate_error(error: ErrorDetails, root: yaml.Node) -> tuple[yaml.Mark, str]:
    """Where in the file an error is: the key for key problems, else the value."""
    loc = tuple(error["loc"])
    if error["type"] in {"extra_forbidden", "missing"}:
        parent, path = _walk(root, loc[:-1])
        key = _key_node(parent, loc[-1]) if error["type"] == "extra_forbidden" else None
        return (key or parent).start_mark, describe_error(error, path)
    if loc[-1:] == ("[key]",) and len(loc) >= 2:  # a bad mapping key, such as money level 6
        parent, path = _walk(root, loc[:-2])
        key = _key_node(parent, loc[-2])
        return (key or parent).start_mark, describe_error(error, [*path, loc[-2]])
    node, path = _walk(root, loc)
    return node.start_mark, describe_error(error, path)


def _walk(root: yaml.Node, loc: Loc) -> tuple[yaml.Node, list[int | str]]:
    """Follow `loc` down the node tree as far as it goes; skip pydantic's internal labels."""
    node, path = root, []
    for part in loc:
        child = _child(node, part)
        if child is not None:
            node = child
            path.append(part)
    return node, path


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                found: yaml.Node = value
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None


def _key_node(node: yaml.Node, key: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                found: yaml.Node = key_node
                return found
    return None


def _dotted(path: Sequence[int | str]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe_error(error: ErrorDetails, path: list[int | str]) -> str:
    """One readable sentence: where in the policy, what is wrong, what was given."""
    kind, key = error["type"], error["loc"][-1] if error["loc"] else ""
    if kind == "extra_forbidden":
        message = f"unknown key '{key}'{_suggestion(str(key))}"
    elif kind == "missing":
        message = f"missing required key '{key}'"
    else:
        message = error["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:] + _given(error.get("input"))
    where = _dotted(path)
    return f"{where}: {message}" if where else message


def _suggestion(key: str) -> str:
    if key in known_keys():
        return f" ('{key}' is a key of another section)"
    close = difflib.get_close_matches(key, sorted(known_keys()), n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _given(value: object) -> str:
    if isinstance(value, date):
        return f" (got {value.isoformat()})"
    if isinstance(value, str | int | float) and len(repr(value)) <= 60:
        return f" (got {value!r})"
    return ""
