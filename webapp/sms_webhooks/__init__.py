"""Webhooks the SMS providers call: delivery statuses and citizens' replies."""
