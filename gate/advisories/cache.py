"""Where riskgate keeps advisory data and indexes: `GATE_CACHE_DIR`, else the platform's cache.

On Linux that is `$XDG_CACHE_HOME/riskgate` (`~/.cache/riskgate`), on macOS
`~/Library/Caches/riskgate`, on Windows the local app data folder (platformdirs decides).
What the gate caches decides what it reports (an index missing an advisory hides it), so each
cache folder is used only while it is this user's alone (`private_cache`).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from gate.safe_input import private_dir

CACHE_ENV = "GATE_CACHE_DIR"


def cache_root() -> Path:
    """The cache directory (not created here)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("riskgate", appauthor=False))


def private_cache(folder: Path) -> bool:
    """Whether `folder` (created 0700 when missing) is this user's alone; when another user
    owns it or may write to it, the caller works without it (slower, never misled)."""
    try:
        private_dir(folder)
    except OSError:
        return False
    return True
