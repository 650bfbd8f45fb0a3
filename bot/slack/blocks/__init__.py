"""Pure Block Kit builders: data from `bot.slack.model` in, escaped Slack payloads out."""
