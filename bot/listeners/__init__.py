"""Slack listeners, one module per surface; each has `register(app)`."""

from slack_bolt import App

from bot.listeners import (
    after_call,
    announcements,
    calls,
    commands,
    events,
    plan,
    polls,
    reminders,
    views,
)


def register_all(app: App) -> None:
    commands.register(app)
    views.register(app)
    events.register(app)
    plan.register(app)
    calls.register(app)
    reminders.register(app)
    polls.register(app)
    announcements.register(app)
    after_call.register(app)
