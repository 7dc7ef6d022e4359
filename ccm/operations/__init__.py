"""What operators use: Prometheus metrics (counters per process, queue depth from the database) and the
API-key administration endpoints."""
