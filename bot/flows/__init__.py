"""The work after an ack, one module per feature: listeners parse, check who may act,
call a service, ack, and hand a flow to the background pool."""
