"""Storage: every SQL query, the asyncpg pool, object storage and Redis cache helpers."""
