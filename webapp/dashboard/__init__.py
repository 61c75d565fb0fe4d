"""Supervisors' dashboard: the index by unit."""
