"""Tests of gate.scanners."""
