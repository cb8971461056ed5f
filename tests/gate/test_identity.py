"""Stable identity of code findings: occurrences, enclosing scope and matching edits."""

from __future__ import annotations

from gate.fingerprint import code_fingerprint
from gate.identity import (
    CodeIdentity,
    enclosing_scope,
    match_edits,
    number_occurrences,
    occurrence_fingerprint,
)
from gate.models import Finding
from tests.gate.policy.helpers import code, dependency

SOURCE = '''import os

BIND = "0.0.0.0"


class Server:
    @staticmethod
    def start(debug=False):
        app.run(host="0.0.0.0", debug=debug)

    async def stop(self):
        def inner():
            return eval(x)
        return inner


def main():
    eval(x)
'''


def test_enclosing_scope_names_the_innermost_function_or_class() -> None:
    assert enclosing_scope(SOURCE, 3) is None
    assert enclosing_scope(SOURCE, 7) == "Server.start"  # the decorator line belongs to it
    assert enclosing_scope(SOURCE, 9) == "Server.start"
    assert enclosing_scope(SOURCE, 10) == "Server"
    assert enclosing_scope(SOURCE, 13) == "Server.stop.inner"
    assert enclosing_scope(SOURCE, 18) == "main"
    assert enclosing_scope("def broken(:\n", 1) is None


def _at(finding: Finding, line: int) -> Finding:
    return finding.model_copy(
        update={"location": finding.location.model_copy(update={"start_line": line})})


def test_identical_matches_on_different_lines_stay_distinct_and_the_first_keeps_its_hash() -> None:
    first, second, third = (_at(code(matched="eval(x)"), line) for line in (40, 12, 25))
    again = _at(code(matched="eval(x)"), 12)  # the same match reported twice
    numbered = number_occurrences([first, second, third, again, dependency()])
    by_line = {f.location.start_line: f.fingerprint for f in numbered[:4]}
    plain = code_fingerprint(rule_id="python-sql-injection", path="src/app.py",
                             matched_code="eval(x)")
    assert by_line[12] == plain
    assert by_line[25] == occurrence_fingerprint(plain, 1)
    assert by_line[40] == occurrence_fingerprint(plain, 2)
    assert len(set(by_line.values())) == 3
    assert numbered[4] == dependency()
    lone = code(matched="other()")
    assert number_occurrences([lone]) == [lone]


def identity(key: str, snippet: str, *, line: int = 9, scope: str | None = "Server.start",
             path: str = "app.py", rule: str = "bind-all") -> CodeIdentity:
    return CodeIdentity(key=key, rule_id=rule, path=path, scope=scope, snippet=snippet,
                        start_line=line)


BIND_OLD = 'app.run(host="0.0.0.0", debug=debug)'


def test_an_in_place_edit_keeps_the_identity() -> None:
    edited = identity("new", 'app.run(host="0.0.0.0", debug=False)')
    matched = match_edits([edited], [identity("old", BIND_OLD)])
    assert set(matched) == {"new"} and matched["new"][0] == "old" and matched["new"][1] > 0.8


def test_moves_and_reindents_within_the_scope_keep_it_other_scopes_rules_or_files_do_not() -> None:
    moved = identity("new", '    app.run(\n        host="0.0.0.0",\n        debug=True)', line=30)
    assert set(match_edits([moved], [identity("old", BIND_OLD)])) == {"new"}
    for other in (identity("old", BIND_OLD, scope="main"), identity("old", BIND_OLD, rule="x"),
                  identity("old", BIND_OLD, path="other.py")):
        assert match_edits([moved], [other]) == {}


def test_unrelated_code_in_the_same_scope_is_a_new_identity_unless_on_the_same_line() -> None:
    other = identity("new", 'socket.bind(("0.0.0.0", 8080))', line=20)
    assert match_edits([other], [identity("old", BIND_OLD)]) == {}
    rewritten = identity("new", 'app.run(host=HOST_ALL)', line=9)
    assert set(match_edits([rewritten], [identity("old", BIND_OLD)])) == {"new"}


def test_pairs_are_one_to_one_best_first() -> None:
    reindented = identity("a", 'app.run(host = "0.0.0.0",  debug = debug)', line=40)
    edited = identity("b", 'app.run(host="0.0.0.0", debug=dbg)', line=9)
    matched = match_edits([edited, reindented], [identity("old", BIND_OLD)])
    assert matched == {"a": ("old", 1.0)}
