"""A bare Bolt app that only acks `/cop`: the baseline for bench/ack_latency.py.

Served by gunicorn exactly as `copbot serve` is (threaded workers), so the difference
in latency is what copbot itself adds.
"""

import os

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

app = App(
    token=os.environ["SLACK_BOT_TOKEN"],
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
)


@app.command("/cop")
def ack_only(ack):
    ack()


application = SlackRequestHandler(app)
