"""What is not production code: the local Slack and Zoom stand-ins, the reference specs
they hold requests against, and the signed request builders.

The tests and `copbot sandbox` import this package; `bot/`, `integrations/` and
`storage/` never do, and a production install (without the `sandbox` extra) does not
need it.
"""
