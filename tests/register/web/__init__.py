"""Tests of the register service (API, pages, CLI, upload client)."""
