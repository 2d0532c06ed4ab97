"""Webhooks other services send copbot over HTTP (Zoom's `POST /zoom/events`): verify,
parse, hand off to a flow."""
