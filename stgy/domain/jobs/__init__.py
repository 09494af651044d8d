"""The domain's side of background work: the transactional outbox (`outbox`: events
recorded with a change and their handlers), jobs that outlive Redis (`durable_jobs`:
deliveries and mails recorded in PostgreSQL), and the relay that enqueues both after
commit (`relay`). Job names and settings are `stgy.jobs`; job bodies are `tasks/`.

`stgy.domain.events` stays a level up: it imports every module that registers outbox
handlers, so it depends on the whole domain, while this package depends on none of it.
"""
