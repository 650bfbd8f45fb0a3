"""The worker process: APScheduler triggers jobs; what is due lives in the database."""
