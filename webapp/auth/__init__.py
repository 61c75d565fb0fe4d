"""Staff login and logout."""
