"""Running copbot as a service: structured logs with a request id (`logs`), Prometheus
metrics (`metrics`), error reports to Sentry (`errors`) and database backups (`backup`).

`logs` and `metrics` import nothing of copbot's, so every floor may record into them.
"""
