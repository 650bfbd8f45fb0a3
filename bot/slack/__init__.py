"""The Slack app: Bolt listeners, Block Kit builders, installation, and the delivery outbox."""
