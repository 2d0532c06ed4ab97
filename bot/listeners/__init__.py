"""Slack listeners, one module per surface; each declares its listeners' routes
(`bot.listeners.routes`) and has `register(app)`."""

from slack_bolt import App

from bot.listeners import (
    after_call,
    agenda,
    announcements,
    calls,
    commands,
    events,
    evidence,
    home_year,
    onsite,
    plan,
    polls,
    profile,
    reminders,
    report,
    resources,
    shares,
    views,
    year,
)


def register_all(app: App) -> None:
    # Bolt tries each listener's matchers in turn until one matches: the busiest requests
    # (/cop, then votes) come first, so a vote is not matched against thirty others
    commands.register(app)
    polls.register(app)
    views.register(app)
    events.register(app)
    plan.register(app)
    calls.register(app)
    year.register(app)
    reminders.register(app)
    profile.register(app)
    onsite.register(app)
    agenda.register(app)
    evidence.register(app)
    report.register(app)
    resources.register(app)
    home_year.register(app)
    announcements.register(app)
    after_call.register(app)
    shares.register(app)
