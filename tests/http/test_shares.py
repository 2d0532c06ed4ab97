"""`/cop share` through the signed endpoint: the card, only http(s) links (else the form
is shown and nothing stored), optional date and region; the monthly digest sent once by
the scheduler, also when two passes race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import select, update

from bot.flows.digests import send_digests
from bot.flows.reminders import PassResult
from bot.scheduler import tick
from bot.slack_client import make_web_client
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Share, ShareDigest
from tests.helpers.records import new_community
from tests.helpers.slack import ack_text

CHANNEL = "CSHARE01"


def setup(engine):
    from bot.services.communities import join

    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel=CHANNEL, leader="U1", team=TEAM_ID)
        join(s, c, "U5")
        return c.id


def stored(engine):
    with session_scope(engine) as s:
        return [
            (x.url, x.note, x.event_date and x.event_date.isoformat(), x.region, x.shared_by)
            for x in s.exec(select(Share).order_by(Share.id)).all()
        ]


def test_share_posts_a_card(as_user, engine, slack):
    setup(engine)
    member = as_user("U5", CHANNEL)
    body = member.reply(
        "share <https://learn.example/webinar?a=1&b=2|learn.example/webinar> Free <b>webinar</b> "
        "& Q&A date:2027-03-04 region:Upper Midwest"
    )
    assert body["text"] == f"Shared in <#{CHANNEL}>. Thank you!"
    member.settle()
    [post] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == CHANNEL)
    text = ack_text({"text": post.args["text"], "blocks": post.json_arg("blocks")})
    assert "<@U5> shared a learning opportunity" in text
    assert "https://learn.example/webinar?a=1&amp;b=2" in text
    assert "Free &lt;b&gt;webinar&lt;/b&gt; &amp; Q&amp;A" in text
    assert "Thu Mar 4, 2027" in text and "Upper Midwest" in text
    assert stored(engine) == [
        (
            "https://learn.example/webinar?a=1&b=2",
            "Free <b>webinar</b> & Q&A",
            "2027-03-04",
            "Upper Midwest",
            "U5",
        )
    ]


def test_not_an_http_link_shows_the_form_and_stores_nothing(as_user, engine, slack):
    setup(engine)
    member = as_user("U5", CHANNEL)
    for args in ("share", "share javascript:alert(1) hi", "share ftp://x.example", "share hello"):
        body = member.reply(args)
        assert "/cop share https://example.org/webinar" in body["text"], args
    body = member.reply("share https://ok.example date:tomorrow")
    assert "`date:tomorrow` is not a date" in body["text"]
    assert (
        "Only the community's members" in as_user("U9", CHANNEL).reply("share https://a.b")["text"]
    )
    member.settle()
    assert stored(engine) == []
    assert slack.calls_to("chat.postMessage") == []


def _digest_setup(as_user, engine, deps):
    """Digest on, one share in February 2027 and one in March; returns March 1st, 08:00."""
    cid = setup(engine)
    assert "Only the community's leaders" in as_user("U5", CHANNEL).reply("share digest on")["text"]
    assert "digest of shares is on" in as_user("U1", CHANNEL).reply("share digest on")["text"]
    zone = deps.settings.zone
    last_month = datetime(2027, 2, 10, 12, tzinfo=zone).astimezone(UTC)
    with session_scope(engine) as s:
        for i, at in enumerate((last_month, last_month + timedelta(days=40))):
            s.add(Share(community_id=cid, url=f"https://x.example/{i}", note=f"Link {i}",
                        shared_by="U5", shared_at=at))  # fmt: skip
    return datetime(2027, 3, 1, 8, tzinfo=zone).astimezone(UTC)


def _digests(slack):
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == CHANNEL and "learning opportunit" in c.args["text"]
    ]


def _race(fn, n=2):
    results: list = []
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        results.append(fn(i))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return results


def test_monthly_digest_is_sent_once(as_user, engine, slack, deps):
    now = _digest_setup(as_user, engine, deps)
    client = make_web_client(deps.settings)

    def send(_):
        result = PassResult()
        send_digests(deps, client, now, result)
        return result.sent

    # two passes claiming at once (the lease aside): the conditional UPDATE picks one
    results = _race(send)
    assert sorted(len(r) for r in results) == [0, 1]
    later = PassResult()
    assert send_digests(deps, client, now + timedelta(days=3), later) == 0
    assert later.sent == []
    [post] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == CHANNEL)
    text = ack_text({"text": post.args["text"], "blocks": post.json_arg("blocks")})
    assert "February 2027" in text and "Link 0" in text and "Link 1" not in text
    assert "1 learning opportunity shared" in post.args["text"]
    # turned off: April's pass sends nothing
    as_user("U1", CHANNEL).reply("share digest off")
    april = PassResult()
    assert send_digests(deps, client, datetime(2027, 4, 1, 8, tzinfo=UTC), april) == 0
    assert april.sent == [] and len(_digests(slack)) == 1


def test_racing_scheduler_passes_send_the_digest_once_from_the_lease_owner(
    as_user, engine, slack, deps
):
    now = _digest_setup(as_user, engine, deps)
    client = make_web_client(deps.settings)
    results = _race(lambda i: tick(deps, client, now, worker=f"w{i}"), n=3)
    digests = [line for r in results for line in r.sent if line.startswith("share_digest")]
    assert len(digests) == 1 and digests[0].startswith("share_digest 2027-02 community ")
    assert len(_digests(slack)) == 1
    # a pass that does not hold the lease sends nothing, even a digest that is due
    with session_scope(engine) as s:
        s.execute(update(ShareDigest).values(last_month=None))
    holder = tick(deps, client, now, worker="holder", hold=True)
    assert holder.owner and [x for x in holder.sent if x.startswith("share_digest")]
    with session_scope(engine) as s:
        s.execute(update(ShareDigest).values(last_month=None))
    other = tick(deps, client, now, worker="other")
    assert not other.owner and other.sent == [] and other.holder == "holder"
    assert len(_digests(slack)) == 2


def test_a_rate_limited_digest_waits_for_a_later_pass(as_user, engine, slack, deps):
    now = _digest_setup(as_user, engine, deps)
    client = make_web_client(deps.settings)
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=2, times=1)
    first = tick(deps, client, now)
    assert first.owner and not [x for x in first.sent if x.startswith("share_digest")]
    with session_scope(engine) as s:
        assert s.get(ShareDigest, s.exec(select(Share.community_id)).first()).last_month is None
    second = tick(deps, client, now + timedelta(minutes=1))
    assert [x for x in second.sent if x.startswith("share_digest 2027-02")]
    third = tick(deps, client, now + timedelta(minutes=2))
    assert not [x for x in third.sent if x.startswith("share_digest")]
    assert len(_digests(slack)) == 2  # the one Slack refused with 429, and the one it took
