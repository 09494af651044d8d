"""Use cases: the business logic between the interfaces and storage/federation.

The social core is at this level, one module per verb group (accounts, posts,
follows, timelines, interactions, notifications...); the rest is grouped by concern:
`remote` (the server-to-server side), `media`, `mail`, and `jobs` (the outbox, durable
jobs and their relay). The HTTP faces and `tasks/` import it; it imports no face.
"""
