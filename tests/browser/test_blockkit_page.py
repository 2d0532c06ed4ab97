"""The page draws Block Kit and mrkdwn as Slack does, and never lets text act: every block
type and element copbot uses, escaped entities shown as text, only http(s) links,
`<!date^…>` in the viewer's own zone, confirm dialogs that stop a click until confirmed,
and Slack's errors beside the message that caused them."""

from __future__ import annotations

import pytest

from sandbox.workspace import Message
from tests.browser.conftest import skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

CHANNEL = "CGENERAL1"
STAMP = 1_800_000_000  # 2027-01-15T08:00:00Z


def _blocks() -> list[dict]:
    option = {"text": {"type": "plain_text", "text": "Option A"}, "value": "a"}
    confirm = {
        "title": {"type": "plain_text", "text": "Cancel the call?"},
        "text": {"type": "mrkdwn", "text": "Members are told."},
        "confirm": {"type": "plain_text", "text": "Cancel the call"},
        "deny": {"type": "plain_text", "text": "Keep it"},
        "style": "danger",
    }
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Every block"}},
        {
            "type": "section",
            "block_id": "text",
            "text": {
                "type": "mrkdwn",
                "text": "*bold* _italic_ ~gone~ `code` <https://example.org|a link> "
                "<javascript:alert(1)|not a link> &lt;b&gt;not bold&lt;/b&gt; &amp; "
                f"<@ULEAD001> <#CDATA0001> <!date^{STAMP}^{{date_long}} at {{time}}|fallback>\n"
                "• one\n• two",
            },
            "accessory": {
                "type": "button",
                "action_id": "acc",
                "text": {"type": "plain_text", "text": "Go"},
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Field 1*"},
                {"type": "plain_text", "text": "<i>x</i>"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "small print"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "acts",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ok",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Primary"},
                },
                {
                    "type": "button",
                    "action_id": "cancel",
                    "style": "danger",
                    "confirm": confirm,
                    "text": {"type": "plain_text", "text": "Cancel call"},
                },
                {"type": "static_select", "action_id": "pick", "options": [option]},
                {"type": "users_select", "action_id": "who"},
                {"type": "datepicker", "action_id": "day", "initial_date": "2027-01-15"},
                {"type": "timepicker", "action_id": "at", "initial_time": "09:30"},
                {"type": "overflow", "action_id": "more", "options": [option]},
            ],
        },
        {"type": "image", "image_url": "https://example.org/cat.png", "alt_text": "a cat"},
    ]


@pytest.fixture(scope="module")
def posted(sandbox):
    # a message as the bot would post it (also checked against Block Kit's limits)
    from slack_sdk import WebClient

    sandbox.workspace.channels[CHANNEL].bot_member = True
    client = WebClient(token="xoxb-sandbox-not-a-token", base_url=sandbox.workspace.url)
    return client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=_blocks())["ts"]


def _message(page, ts: str):
    locator = page.locator(f"#pane .message[data-ts='{ts}']")
    locator.wait_for(timeout=15000)
    return locator


def _open_general(page, user: str) -> None:
    page.select_option("#person", user)
    page.click("#channel-list .channel:text-is('# general')")


def test_every_block_and_mrkdwn_drawn_and_text_never_acts(page, shot, posted):
    _open_general(page, "ULEAD001")
    message = _message(page, posted)
    text = message.locator("[data-block-id='text'] .bk-text-block")
    assert text.locator("strong").inner_text() == "bold"
    assert text.locator("em").inner_text() == "italic"
    assert text.locator("s").inner_text() == "gone"
    assert text.locator("code").inner_text() == "code"
    links = text.locator("a")
    assert links.count() == 1 and links.get_attribute("href") == "https://example.org"
    shown = text.inner_text()
    assert "<b>not bold</b> &" in shown  # entities shown as the characters, not markup
    assert text.locator("b").count() == 0
    assert "not a link" in shown
    assert "@ana" in shown and "#data-science" in shown
    # 2027-01-15T08:00Z in New York is 3:00 AM
    assert "Friday, January 15th, 2027 at 3:00 AM" in shown
    assert "• one" in shown
    assert message.locator(".bk-header").inner_text() == "Every block"
    assert message.locator(".bk-field").count() == 2
    assert "<i>x</i>" in message.locator(".bk-fields").inner_text()
    assert message.locator(".bk-button.primary").inner_text() == "Primary"
    assert message.locator(".bk-button.danger").inner_text() == "Cancel call"
    assert message.locator("select[data-type=static_select] option").count() == 2
    assert message.locator("select[data-type=users_select] option").count() == 7
    assert message.locator("input[type=date]").input_value() == "2027-01-15"
    assert message.locator("input[type=time]").input_value() == "09:30"
    assert "a cat" in message.locator(".bk-image").inner_text()  # no request leaves
    shot(page, "every-block-new-york")


def test_dates_are_in_the_viewers_zone(page, shot, posted):
    _open_general(page, "UMEMB001")  # Tokyo: 17:00 the same day
    message = _message(page, posted)
    assert "Friday, January 15th, 2027 at 5:00 PM" in message.inner_text()
    shot(page, "every-block-tokyo")


def test_a_confirm_dialog_holds_the_click_until_confirmed(page, shot, posted, sandbox):
    _open_general(page, "ULEAD001")
    message = _message(page, posted)
    before = len(sandbox.workspace.problems)
    message.locator(".bk-button.danger").click()
    page.wait_for_selector("#confirm-overlay:not([hidden])")
    assert page.inner_text("#confirm-title") == "Cancel the call?"
    assert page.inner_text("#confirm-ok") == "Cancel the call"
    shot(page, "confirm-dialog")
    page.click("#confirm-deny")
    assert page.is_hidden("#confirm-overlay")
    # the overflow menu opens with its options
    message.locator(".bk-overflow > button").click()
    assert message.locator(".bk-menu-item").inner_text() == "Option A"
    assert len(sandbox.workspace.problems) == before


def test_slacks_error_is_shown_beside_the_message_that_caused_it(page, shot, sandbox, posted):
    sandbox.workspace.set_cause("ULEAD001", "clicked “Primary”", CHANNEL, posted)
    sandbox.workspace.problem("ULEAD001", "message_not_found", "chat.update")
    _open_general(page, "ULEAD001")
    problem = _message(page, posted).locator(".problem")
    problem.wait_for(timeout=15000)
    assert "Slack refused chat.update: message_not_found" in problem.inner_text()
    shot(page, "error-beside-its-message")
    _open_general(page, "ULEAD002")  # someone else's mistake is not shown to others
    assert _message(page, posted).locator(".problem").count() == 0


def test_an_ephemeral_is_seen_by_its_person_only(page, sandbox):
    kept = sandbox.workspace.add_message(
        Message(CHANNEL, "1800000001.000001", "for ana only", ephemeral_to="ULEAD001")
    )
    _open_general(page, "ULEAD002")
    page.wait_for_timeout(300)
    assert page.locator(f"#pane .message[data-ts='{kept.ts}']").count() == 0
    _open_general(page, "ULEAD001")
    assert "Only visible to you" in _message(page, kept.ts).inner_text()
