"""Optional parts of the install: the register service's web stack is `riskgate[server]`.

A plain `pip install riskgate` is the gate (scanners, policy, reports, the register database
and its CLI); `gate serve` and the HTML board report need FastAPI, uvicorn and Jinja2 as well.
Without them those commands say, in one line, how to add them (exit 3) instead of a traceback.
"""

from __future__ import annotations

import importlib.util

from gate.errors import ConfigError

# Import names of what `riskgate[server]` adds (pyproject.toml's `server` extra).
SERVER_MODULES = ("fastapi", "uvicorn", "jinja2", "itsdangerous", "multipart", "fastapi_offline")
SERVER_HINT = "pip install 'riskgate[server]'"


def missing_server_modules() -> list[str]:
    """The web-stack modules this environment lacks (empty when the extra is installed)."""
    return [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]


def require_server(feature: str) -> None:
    """Raise `ConfigError` (exit 3) naming the extra when the web stack is not installed."""
    missing = missing_server_modules()
    if missing:
        raise ConfigError(
            f"{feature} needs riskgate's web stack, not installed ({', '.join(missing)}): "
            f"{SERVER_HINT}"
        )
