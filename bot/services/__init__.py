"""The CoP rules, Slack-free: plain values in, plain values (or table rows) out."""


class CopError(ValueError):
    """A rule refused the request; the message is written for the person who asked."""
