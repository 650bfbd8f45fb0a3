"""The offline demo: sample sources served from 127.0.0.1, polled into a fresh SQLite file."""
