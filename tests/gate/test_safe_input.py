"""Scanner JSON whose strings escape a lone surrogate is made storable, keys and lists too."""

from __future__ import annotations

import json

from gate.safe_input import decode_json, loads_storable


def test_lone_surrogates_become_replacement_characters_everywhere() -> None:
    raw = json.dumps({"a\udc00": ["x\ud800y", {"deep": "\udfff"}], "pair": "\U0001f980",
                      "n": 1, "none": None})
    assert "\\ud800" in raw and "\\ud83e\\udd80" in raw
    document = loads_storable(raw)
    assert document == {"a\ufffd": ["x\ufffdy", {"deep": "\ufffd"}], "pair": "\U0001f980",
                        "n": 1, "none": None}
    json.dumps(document).encode("utf-8")  # storable: encodes as UTF-8
    assert decode_json(raw.encode(), source="report.json") == document
    assert loads_storable('"\\ud800"') == "\ufffd"


def test_text_without_a_surrogate_escape_is_left_as_decoded() -> None:
    raw = r'{"path": "C:\\udata\\d800", "text": "\\ud800 is how JSON spells it"}'
    assert loads_storable(raw) == json.loads(raw), "an escaped backslash is no escape"


def test_a_policy_loses_its_lone_surrogates_too() -> None:
    from tests.gate.policy.helpers import policy

    loaded = policy('rules:\n  - name: "r\\ud800 \\U0000dfff"\n    action: block\n'
                    '    match: {}\n')
    assert loaded.rules[0].name == "r\ufffd \ufffd"
