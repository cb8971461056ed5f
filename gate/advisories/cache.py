"""Where riskgate keeps advisory data and indexes: `GATE_CACHE_DIR`, else the platform's cache.

On Linux that is `$XDG_CACHE_HOME/riskgate` (`~/.cache/riskgate`), on macOS
`~/Library/Caches/riskgate`, on Windows the local app data folder (platformdirs decides).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CACHE_ENV = "GATE_CACHE_DIR"


def cache_root() -> Path:
    """The cache directory (not created here)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("riskgate", appauthor=False))
