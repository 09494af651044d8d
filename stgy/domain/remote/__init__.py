"""The server-to-server side of the domain: what other fediverse servers see of us,
what they send us, what we send them and what we fetch from them.

- shown to them: `activitypub` (our actors, objects, activities and collections as
  documents), `discovery` (WebFinger, host-meta, NodeInfo), `authorized_fetch`;
- taken in: `inbox` (check, store, answer 202), then `inbox_apply` and
  `inbox_social` (what each activity does), with `remote_keys` and `remote_posts`;
- sent: `outgoing`, `outgoing_social` and `follow_replies` (outbox handlers that
  make activities), `delivery` (signing and sending one to one inbox);
- fetched: `resolve` (accounts by WebFinger or URL), `backfill` (a remote outbox),
  `context_fetch` (a thread), over `remote_documents`.

The `remote_` prefixes stay: those modules are imported next to their local
counterparts (`stgy.domain.posts`, `stgy.domain.keys`).
"""
