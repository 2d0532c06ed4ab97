"""A bare Bolt app that only acks: the baseline for bench/ack_latency.py.

Served by gunicorn exactly as `copbot serve` is (threaded workers), with Bolt's default
settings, so the difference in latency is what copbot itself adds. It acks every path
the benchmark sends: `/cop`, any button (votes included) and any modal submission, the
latter with a `response_action: update` carrying a small view, as copbot's plan modal
answers.
"""

import os
import re

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

app = App(
    token=os.environ["SLACK_BOT_TOKEN"],
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
)

NEXT_VIEW = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Next"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Saved."}}],
}


@app.command("/cop")
def ack_command(ack):
    ack()


@app.action(re.compile(".*"))
def ack_click(ack):
    ack()


@app.view(re.compile(".*"))
def ack_submission(ack):
    ack(response_action="update", view=NEXT_VIEW)


application = SlackRequestHandler(app)
