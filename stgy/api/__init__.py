"""HTTP interfaces: the native JSON API and the ActivityPub endpoints."""
