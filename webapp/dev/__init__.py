"""Development helpers, registered only with the console SMS provider."""
