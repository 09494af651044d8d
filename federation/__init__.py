"""The ActivityPub protocol as a library: signatures, JSON-LD, vocabulary, discovery, delivery."""
