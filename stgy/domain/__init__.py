"""Use cases: the business logic between the interfaces and storage/federation."""
