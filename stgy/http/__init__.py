"""What every HTTP face shares: the viewer context, error mapping, body parsing,
validation, the JSON provider, and the operational endpoints (`/healthz`, `/metrics`).

The faces (`stgy.api`, `stgy.activitypub`, later `stgy.web` and `stgy.mastodon`)
import this package and the domain, never each other; this package imports no face.
"""
