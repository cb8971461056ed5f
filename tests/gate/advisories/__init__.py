"""Tests of gate.advisories."""
