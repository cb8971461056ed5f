"""Build-time mapping: the top-level `policies/` ships inside the wheel as `gate/_bundled/`.

Everything else is declared in pyproject.toml. The repository keeps `policies/` at the top (the
rule authors' home, with semgrep's `--test` targets beside the rules); an installed riskgate finds
the copy with `importlib.resources` (see `gate.config.policies_dir`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# What a plain install needs: the policies, their schema, the examples and semgrep's rules
# (not the rules' test targets, which are deliberately vulnerable Python).
BUNDLED = ("*.yml", "policy.schema.json", "examples/*.yml", "semgrep/*.yml")


class BuildPyWithPolicies(build_py):
    """`build_py` that also copies the bundled policies and rule pack into `gate/_bundled`."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's policies/ directly
            return
        source = HERE / "policies"
        target = Path(self.build_lib) / "gate" / "_bundled"
        for pattern in BUNDLED:
            for path in sorted(source.glob(pattern)):
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)


setup(cmdclass={"build_py": BuildPyWithPolicies})
