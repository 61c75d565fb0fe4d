"""Complaint handlers' queue."""
