"""Talking to the cloud: client, auth, models of what it returns, refresh."""
