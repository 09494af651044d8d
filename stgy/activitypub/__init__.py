"""The ActivityPub face, for other fediverse servers: WebFinger, host-meta and NodeInfo
(`wellknown`), actors, objects and collections (`objects`), and the inboxes (`inbox`).

Thin over the domain (`stgy.domain`) and the shared request helpers
(`stgy.http`); it imports no other face.
"""
