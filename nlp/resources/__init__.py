"""Package data: dictionaries, lexicons, taxonomy, urgency rules, corpus and models."""
