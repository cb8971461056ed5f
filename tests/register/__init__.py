"""Tests of the risk register."""
