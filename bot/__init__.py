"""briefbot: a Slack bot that turns news and job sources into short market-signal briefs."""

__version__ = "0.1.0"
