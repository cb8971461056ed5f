"""The loopback OSV query endpoint answers as api.osv.dev does, with `Z` timestamps."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from gate.advisories.osv import MemoryIndex, load_advisory_dir
from gate.advisories.server import serve_advisories
from tests.conftest import FIXTURES, REPO_ROOT


def post(url: str, payload: Any) -> tuple[int, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def query(name: str, version: str) -> dict[str, Any]:
    return {"package": {"name": name, "ecosystem": "PyPI"}, "version": version}


@pytest.fixture(scope="module")
def demo() -> MemoryIndex:
    return load_advisory_dir(FIXTURES / "advisories" / "osv")


def test_answers_matching_records_with_z_timestamps(demo: MemoryIndex) -> None:
    with serve_advisories(demo) as url:
        assert url.startswith("http://127.0.0.1:")
        status, body = post(url, query("Demo_Pkg", "1.0"))
    assert status == 200
    vulns = {v["id"]: v for v in body["vulns"]}
    assert set(vulns) == {"DEMO-1", "DEMO-2"}
    for vuln in vulns.values():
        for key in ("published", "modified"):
            if key in vuln:
                assert vuln[key].endswith("Z"), vuln[key]
    assert vulns["DEMO-1"]["published"] == "2021-07-05T00:01:22Z"
    assert vulns["DEMO-1"]["aliases"] == ["CVE-2099-0001"]


def test_package_names_are_normalised_as_pip_audit_compares_them(demo: MemoryIndex) -> None:
    with serve_advisories(demo) as url:
        _, body = post(url, query("demo-pkg", "0.5"))
    (vuln,) = body["vulns"]
    assert vuln["affected"][0]["package"] == {"name": "demo-pkg", "ecosystem": "PyPI"}
    assert vuln["affected"][0]["ranges"][0]["events"][-1] == {"fixed": "2.1.3"}


def test_no_match_is_an_empty_object(demo: MemoryIndex) -> None:
    with serve_advisories(demo) as url:
        assert post(url, query("demo-pkg", "9.0")) == (200, {})
        assert post(url, query("unknown-package", "1.0")) == (200, {})
        npm = {"package": {"name": "demo-pkg", "ecosystem": "npm"}, "version": "1.0"}
        assert post(url, npm) == (200, {})


def test_bad_requests_are_rejected(demo: MemoryIndex) -> None:
    with serve_advisories(demo) as url:
        assert post(url, b"not json")[0] == 400
        assert post(url, [1, 2])[0] == 400
        assert post(url.replace("/v1/query", "/v1/other"), query("demo-pkg", "1.0"))[0] == 404


def test_real_pypa_timestamps_come_out_with_z() -> None:
    index = load_advisory_dir(REPO_ROOT / "examples" / "advisories")
    with serve_advisories(index) as url:
        _, body = post(url, query("salt", "3000"))
    assert len(body["vulns"]) > 20
    assert all(v["published"].endswith("Z") and v["modified"].endswith("Z") for v in body["vulns"])


def test_the_server_stops_when_the_block_ends(demo: MemoryIndex) -> None:
    with serve_advisories(demo) as url:
        pass
    with pytest.raises(urllib.error.URLError):
        post(url, query("demo-pkg", "1.0"))
