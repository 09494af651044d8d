"""SAQ job functions and the worker process; each job is a thin call into the domain."""
