"""What operators watch: Prometheus metrics (counters per process, queue depth from the database)."""
