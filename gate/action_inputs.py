"""The Action's `extra-args` input: split like a shell, then checked against `gate scan`.

A mistyped option (`--fail-onn high`), a bad value (`--fail-on hihg`, `--timeout soon`) or an
option the Action sets from its own inputs (`--json`, `--sarif`, `--policy`, `--token`, ...)
is an input error: the step fails with exit 3 before anything is scanned, whatever
`fail-on-error` says (that input covers scanner and runtime failures only).
"""

from __future__ import annotations

import shlex

import click
from click.core import ParameterSource

# `gate scan` parameters the Action sets itself, and the input to use instead.
RESERVED = {
    "json_out": "the action writes the JSON verdict itself",
    "sarif_out": "use the sarif-file input",
    "markdown_out": "the action writes the job summary itself",
    "github_out": "the action prints the annotations itself",
    "sarif_absent": "the action leaves fixed findings out of the SARIF for GitHub",
    "progress": "the action turns progress off",
    "policy_path": "use the policy input",
    "advisories": "use the advisories input",
    "baseline_ref": "use the baseline input",
    "upload_url": "use the upload-url input",
    "token": "use the token input (from a secret: extra-args are printed in logs)",
    "path": "use the path input",
}


class ActionInputError(ValueError):
    """An action input that cannot be used as given (one line, names the input)."""


def split_extra_args(text: str) -> list[str]:
    """Split the `extra-args` input like a POSIX shell would, without running anything."""
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError as exc:
        raise ActionInputError(f"input extra-args: cannot split: {exc}") from exc


def check_extra_args(text: str) -> list[str]:
    """`extra-args` split, once `gate scan` accepts them and they set nothing reserved."""
    from gate.cli import scan  # the click command: its options are the only truth

    parts = split_extra_args(text)
    if any(part in ("-h", "--help", "--version") for part in parts):
        raise ActionInputError("input extra-args: --help and --version run no scan")
    try:
        context = scan.make_context("gate scan", [*parts], resilient_parsing=False)
    except click.UsageError as exc:
        raise ActionInputError(f"input extra-args: {exc.format_message()}") from exc
    for name, why in RESERVED.items():
        if context.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            option = next(p for p in scan.params if p.name == name)
            shown = "PATH" if isinstance(option, click.Argument) else "/".join(option.opts)
            raise ActionInputError(f"input extra-args: {shown} is not allowed here: {why}")
    return parts
