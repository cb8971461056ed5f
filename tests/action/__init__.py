"""Tests of the GitHub Action (action.yml, scripts/action, examples/workflows)."""
