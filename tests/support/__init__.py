"""Helpers shared by the test suites (synthetic speech, fixtures data)."""
