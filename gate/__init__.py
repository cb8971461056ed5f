"""riskgate's gate: run scanners, normalise findings, apply a YAML policy, report a verdict."""

__version__ = "0.1.0"
