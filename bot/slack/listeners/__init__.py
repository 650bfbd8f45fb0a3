"""Bolt listeners, one module per Slack surface (commands, actions, questions, events), in the shape of Slack's
Bolt templates: module-level `handle_*` functions, bound to what they need (`bot.slack.deps.Deps`) and
registered by the module's `register(app, deps)`. Each reads the request, calls storage, and formats the reply
with the builders in `bot.slack.blocks`."""
