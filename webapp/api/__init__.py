"""The JSON API for the case-management system."""
