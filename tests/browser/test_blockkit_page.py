"""The page draws Block Kit and mrkdwn as Slack does, and never lets text act: every block
type and element copbot uses, escaped entities shown as text, only http(s) links,
`<!date^…>` in the viewer's own zone, confirm dialogs that stop a click until confirmed,
and Slack's errors beside the message that caused them."""

from __future__ import annotations

import pytest

from sandbox.workspace import Message
from tests.helpers.browser import skip_reason

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
    assert message.locator(".bk .bk-menu-item").inner_text() == "Option A"
    assert len(sandbox.workspace.problems) == before


def test_a_click_in_a_message_carries_the_messages_state(page, posted):
    _open_general(page, "ULEAD001")
    message = _message(page, posted)
    sent: list[dict] = []

    def answer(route):
        sent.append(route.request.post_data_json)
        route.fulfill(json={"ok": True, "error": None})

    page.route("**/api/action", answer)
    try:
        message.locator("select[data-type=static_select]").select_option("a")
        message.locator(".bk-button.primary").click()
        page.wait_for_timeout(200)
    finally:
        page.unroute("**/api/action")
    # the select's own dispatch, then the click with the state of every element
    click = sent[-1]
    assert click["action"]["action_id"] == "ok"
    acts = click["values"]["acts"]
    assert acts["pick"]["selected_option"]["value"] == "a"
    assert acts["day"] == {"type": "datepicker", "selected_date": "2027-01-15"}
    assert acts["at"] == {"type": "timepicker", "selected_time": "09:30"}
    assert sent[0]["action"]["selected_option"]["value"] == "a"  # the select dispatched


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


# ---- every element copbot sends in a modal, and its state as Slack sends it ---------------
GROUPED = {
    "type": "multi_static_select",
    "action_id": "where",
    "placeholder": {"type": "plain_text", "text": "Communities"},
    "option_groups": [
        {
            "label": {"type": "plain_text", "text": "Yours"},
            "options": [
                {"text": {"type": "plain_text", "text": "Data"}, "value": "1"},
                {"text": {"type": "plain_text", "text": "Design"}, "value": "2"},
            ],
        },
        {
            "label": {"type": "plain_text", "text": "Others"},
            "options": [{"text": {"type": "plain_text", "text": "Ops"}, "value": "3"}],
        },
    ],
    "initial_options": [{"text": {"type": "plain_text", "text": "Design"}, "value": "2"}],
}
SEND_AT = 1_800_000_000  # 2027-01-15T08:00:00Z: 3:00 AM in New York


def _input(block_id: str, label: str, element: dict, optional: bool = False) -> dict:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _form() -> dict:
    checks = [
        {
            "text": {"type": "plain_text", "text": "Pin it"},
            "value": "pin",
            "description": {"type": "plain_text", "text": "in each channel"},
        },
        {"text": {"type": "plain_text", "text": "Tell staff"}, "value": "tell"},
    ]
    return {
        "type": "modal",
        "callback_id": "sandbox_every_element",
        "title": {"type": "plain_text", "text": "Every element"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            _input("targets", "Send to", GROUPED),
            _input(
                "when",
                "Send at",
                {"type": "datetimepicker", "action_id": "at", "initial_date_time": SEND_AT},
            ),
            _input(
                "who",
                "People",
                {
                    "type": "multi_users_select",
                    "action_id": "people",
                    "initial_users": ["UMEMB001"],
                },
                optional=True,
            ),
            _input(
                "where",
                "Channel",
                {
                    "type": "conversations_select",
                    "action_id": "channel",
                    "default_to_current_conversation": True,
                },
            ),
            _input(
                "opts",
                "Options",
                {"type": "checkboxes", "action_id": "o", "options": checks},
                optional=True,
            ),
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "Rich ", "style": {"bold": True}},
                            {"type": "emoji", "name": "mega"},
                        ],
                    },
                    {
                        "type": "rich_text_list",
                        "style": "bullet",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "text", "text": "a point"}],
                            }
                        ],
                    },
                ],
            },
            {
                "type": "table",
                "column_settings": [{"align": "left"}, {"align": "right"}],
                "rows": [
                    [
                        {"type": "raw_text", "text": "Community"},
                        {"type": "raw_text", "text": "Calls"},
                    ],
                    [{"type": "raw_text", "text": "Data"}, {"type": "raw_text", "text": "3"}],
                ],
            },
        ],
    }


def _open_modal(sandbox, user: str, view: dict) -> None:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-sandbox-not-a-token", base_url=sandbox.workspace.url)
    client.views_open(trigger_id=sandbox.workspace.issue_trigger(user), view=view)


def test_every_element_drawn_in_a_modal_and_submitted_as_slack_sends_it(page, shot, sandbox):
    _open_general(page, "ULEAD001")  # New York
    _open_modal(sandbox, "ULEAD001", _form())
    page.wait_for_selector("#modal-overlay:not([hidden])", timeout=15000)
    body = page.locator("#modal-body")
    targets = body.locator("select[data-type=multi_static_select]")
    assert targets.locator("optgroup").count() == 2
    assert targets.locator("option:checked").all_inner_texts() == ["Design"]
    # the datetime is shown in the viewer's zone: 08:00 UTC is 03:00 in New York
    when = body.locator("input[data-type=datetimepicker]")
    assert when.input_value() == "2027-01-15T03:00"
    assert body.locator(
        "select[data-type=multi_users_select] option:checked"
    ).all_inner_texts() == ["Kenji Sato (@kenji)"]
    assert "in each channel" in body.locator(".bk-choices").inner_text()
    assert body.locator(".bk-rich strong").inner_text().strip() == "Rich"
    assert "📣" in body.locator(".bk-rich").inner_text()
    assert body.locator(".bk-rich li").inner_text() == "a point"
    assert body.locator(".bk-table th").all_inner_texts() == ["Community", "Calls"]
    assert body.locator(".bk-table td").all_inner_texts() == ["Data", "3"]
    targets.select_option(["1", "3"])
    when.fill("2027-07-01T09:30")  # New York summer time: 13:30 UTC
    body.locator(".bk-choices input[value=pin]").check()
    shot(page, "every-element-modal")

    sent: list[dict] = []

    def answer(route):
        sent.append(route.request.post_data_json)
        route.fulfill(json={"ok": True})

    page.route("**/api/submit", answer)
    try:
        page.click("#modal-submit")
        page.wait_for_function("() => true")
        page.wait_for_timeout(200)
    finally:
        page.unroute("**/api/submit")
        sandbox.workspace.close_views("ULEAD001", all_views=True)
        sandbox.workspace.changed()
    [submitted] = sent
    values = submitted["values"]
    option = lambda text, value: {"text": {"type": "plain_text", "text": text}, "value": value}  # noqa: E731
    assert values["targets"]["where"] == {
        "type": "multi_static_select",
        "selected_options": [option("Data", "1"), option("Ops", "3")],
    }
    assert values["when"]["at"] == {
        "type": "datetimepicker",
        "selected_date_time": 1_814_448_600,  # 2027-07-01T13:30:00Z
    }
    assert values["who"]["people"] == {
        "type": "multi_users_select",
        "selected_users": ["UMEMB001"],
    }
    # the conversation the person was viewing, as Slack's default_to_current_conversation
    assert values["where"]["channel"] == {
        "type": "conversations_select",
        "selected_conversation": CHANNEL,
    }
    assert values["opts"]["o"] == {
        "type": "checkboxes",
        "selected_options": [
            {
                **option("Pin it", "pin"),
                "description": {"type": "plain_text", "text": "in each channel"},
            }
        ],
    }


def test_what_the_page_cannot_draw_fails_loudly(page, sandbox):
    _open_general(page, "ULEAD001")
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Not drawable"},
        "blocks": [
            _input("x", "Search", {"type": "multi_external_select", "action_id": "x"}),
        ],
    }
    _open_modal(sandbox, "ULEAD001", view)
    try:
        marker = page.locator("#modal-body .bk-unknown")
        marker.wait_for(timeout=15000)
        assert "multi_external_select" in marker.inner_text()
        undrawn = page.evaluate("() => window.copbotSandbox.undrawn.slice()")
        assert undrawn == ["the multi_external_select element"]
    finally:
        page.evaluate("() => { window.copbotSandbox.undrawn.length = 0; }")
        sandbox.workspace.close_views("ULEAD001", all_views=True)
        sandbox.workspace.changed()
    page.wait_for_selector("#modal-overlay", state="hidden")


def test_mrkdwn_emoji_and_block_quotes_as_slack_shows_them(page, shot, sandbox):
    message = sandbox.workspace.add_message(
        Message(
            CHANNEL,
            "1800000002.000001",
            ":mega: *Announcement* :bar_chart: :lock: :no_such_emoji:\n"
            "> quoted line\n&gt; and this",
        )
    )
    _open_general(page, "ULEAD001")
    shown = _message(page, message.ts)
    text = shown.inner_text()
    assert "📣" in text and "📊" in text and "🔒" in text
    assert ":no_such_emoji:" in text  # an unknown name stays as text, as in Slack
    assert shown.locator("blockquote").all_inner_texts() == ["quoted line", "and this"]
    shown.scroll_into_view_if_needed()
    shot(page, "emoji-and-quotes")


def test_a_shared_file_is_shown_with_a_download_link(page, shot, sandbox):
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-sandbox-not-a-token", base_url=sandbox.workspace.url)
    dm = client.conversations_open(users="ULEAD001")["channel"]["id"]
    client.files_upload_v2(
        channel=dm,
        filename="data-plan.md",
        title="Plan: Data",
        content="# The plan\n\nÜber alles.\n",
        initial_comment="The plan of *Data*.",
    )
    page.select_option("#person", "ULEAD001")
    page.click("#nav-messages")
    shared = page.locator("#pane .message", has_text="The plan of").last
    shared.wait_for(timeout=15000)
    card = shared.locator(".file")
    assert "Plan: Data" in card.inner_text() and "data-plan.md" in card.inner_text()
    href = card.locator("a.file-download").get_attribute("href")
    got = page.request.get(sandbox.url + href)
    assert got.status == 200 and got.text() == "# The plan\n\nÜber alles.\n"
    assert "data-plan.md" in got.headers["content-disposition"]
    shot(page, "file-in-direct-message")
    # someone who does not see the conversation cannot fetch it
    other = page.request.get(sandbox.url + href.replace("ULEAD001", "UMEMB001"))
    assert other.status == 404


def test_the_switcher_says_what_each_person_is_and_the_favicon_is_served(page, sandbox):
    _open_general(page, "ULEAD001")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#person option')]"
        ".some(o => o.textContent.includes('leader of'))",
        timeout=15000,
    )
    labels = dict(
        zip(
            page.locator("#person option").evaluate_all("os => os.map(o => o.value)"),
            page.locator("#person option").all_inner_texts(),
            strict=True,
        )
    )
    assert labels["USTAFF01"].startswith("Sam Rivera · staff")
    assert "leader of Data Science Practice, Design Systems Guild" in labels["ULEAD002"]
    assert "leader of Design Systems Guild" in labels["UMEMB002"]
    assert "member of Data Science Practice" in labels["UMEMB002"]
    assert labels["UMEMB001"].endswith("member of Data Science Practice, Design Systems Guild")
    icon = page.request.get(sandbox.url + "/favicon.ico")
    assert icon.status == 200 and icon.body()[:4] == b"\x00\x00\x01\x00"
