"""The citizen's survey page (/s/<token>)."""
