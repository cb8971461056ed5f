"""Tests of the bundled policies and semgrep rules."""
