"""Fault and crash tests (issue 7): nothing lost, nothing doubled."""
