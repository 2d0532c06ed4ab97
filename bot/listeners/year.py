"""`/cop year`: the sample program year as a form a leader edits, and its acceptance.

`/cop year` drafts the current program year, `/cop year next` the next one and
`/cop year 2027` the one that starts in 2027 (this one or the next two). Accepting
schedules the year once per community (a second acceptance is refused, a replay of the
same form answers as it did); the calls' meetings are made after the ack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot.blocks import escape
from bot.blocks import year_plan as blocks
from bot.flows import calls as flows
from bot.listeners.common import CommandRequest, leader_zone, modal_values
from bot.listeners.guard import Interaction, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, year_plan
from bot.services import calls as rules
from bot.services.ids import whole_number
from bot.services.permissions import Action, who_can

route = Routes()

log = logging.getLogger(__name__)

YEARS_AHEAD = 2  # `/cop year 2029` reaches this many program years past the current one
USAGE = (
    "`/cop year` drafts this program year, `/cop year next` the next one, and "
    "`/cop year {first}` to `/cop year {last}` name one by the year it starts in."
)


def chosen_year(arg: str, current: date) -> date:
    """The first day of the program year `arg` names; CopError saying what works."""
    arg = arg.strip().lower()
    usage = USAGE.format(first=current.year, last=current.year + YEARS_AHEAD)
    if arg == "":
        return current
    if arg == "next":
        return current.replace(year=current.year + 1)
    if (wanted := whole_number(arg, max_digits=4)) is not None and len(arg) == 4:
        if current.year <= wanted <= current.year + YEARS_AHEAD:
            return current.replace(year=wanted)
        raise CopError(
            f"I can draft program years {current.year} to "
            f"{current.year + YEARS_AHEAD}, not {arg}. {usage}"
        )
    raise CopError(f"I don't know `/cop year {arg[:20]}`. {usage}")


def cmd_year(req: CommandRequest) -> None:
    community = req.community()
    if not req.may(Action.SCHEDULE_CALL, community):
        raise CopError(f"Only {who_can(Action.SCHEDULE_CALL)} can plan the year's calls.")
    settings = req.deps.settings
    zone = leader_zone(req)
    now = req.deps.clock.now()
    today = now.astimezone(settings.zone).date()
    current, _ = rules.program_year(today, settings.program_year_start)
    first = chosen_year(req.args, current)
    if year_plan.accepted_by(req.session, community.id, first) is not None:
        raise CopError(
            f"The year plan {rules.year_label(first)} of *{escape(community.name)}* is accepted "
            "already: `/cop calls` shows its calls, `/cop schedule` adds one."
        )
    drafts = year_plan.draft_calls(first, settings.holidays)
    local_today = now.astimezone(ZoneInfo(zone)).date()
    future = [d for d in drafts if d.day > local_today]
    skipped = [f"{d.topic} ({d.day:%b %-d})" for d in drafts if d.day <= local_today]
    if not future:
        raise CopError(
            "Every call of this program year's sample plan is in the past: "
            "`/cop year next` drafts the next one."
        )
    steps = [
        f"{m.title} ({year_plan.month_in_year(first, m.month):%B})"
        for m in year_plan.SAMPLE_MILESTONES
    ]
    steps.insert(
        0,
        "For each webinar: distribute the guide a week before, post the readings, "
        "archive the recording and slides",
    )
    view = blocks.year_modal(
        community, first, future, zone=zone, milestones=steps, skipped_months=skipped
    )
    req.open_view(view)


def _first_of(meta: dict[str, Any], year_start: tuple[int, int]) -> date:
    try:
        first = date.fromisoformat(str(meta.get("first")))
    except ValueError:
        first = None
    if first is None or rules.program_year(first, year_start)[0] != first:
        raise CopError("This form is not one copbot made: run `/cop year` again.")
    return first


def _chosen(values: dict[str, Any], errors: dict[str, str]) -> dict[str, tuple[str, date]]:
    chosen: dict[str, tuple[str, date]] = {}
    for sample in year_plan.SAMPLE_CALLS:
        day_text = values.get(f"date-{sample.key}")
        topic_text = values.get(f"topic-{sample.key}")
        if day_text is None and topic_text is None:
            continue  # not offered (already past)
        topic = " ".join(str(topic_text or "").split())
        if not topic or len(topic) > rules.MAX_TOPIC:
            errors[f"topic-{sample.key}"] = "Give this call a topic (up to 200 characters)."
        try:
            chosen[sample.key] = (topic, date.fromisoformat(str(day_text)))
        except ValueError:
            errors[f"date-{sample.key}"] = "Pick a date."
    return chosen


@dataclass(frozen=True)
class YearForm:
    at: time
    zone: str
    duration: int
    chosen: dict[str, tuple[str, date]]  # topic and day by sample key


def read_form(
    view: dict[str, Any], first: date, user_id: str, now: datetime
) -> tuple[YearForm | None, dict[str, str]]:
    """The accepted year's settings, or errors by field (the rules of one call, as of
    `now`)."""
    values = modal_values(view)
    at_text = str(values.get(rules.TIME) or "")
    zone = str(values.get(rules.ZONE) or "").strip()
    duration_text = str(values.get(rules.DURATION) or "")
    # the same rules as one call, checked on a date that is surely in the future
    probe = rules.CallForm(
        date=f"{first.year + 2}-06-15",
        time=at_text,
        zone=zone,
        duration=duration_text,
        topic="probe",
        agenda="",
        host=user_id,
        alternate="",
        kind="community",
    )
    _, probe_errors = rules.validate(probe, now=now, holidays_country=None)
    errors = {
        k: v for k, v in probe_errors.items() if k in (rules.TIME, rules.ZONE, rules.DURATION)
    }
    chosen = _chosen(values, errors)
    if errors:
        return None, errors
    hour, minute = (int(p) for p in at_text.split(":"))
    return YearForm(time(hour, minute), zone, int(duration_text), chosen), {}


def _refuse(i: Interaction, error: CopError) -> None:
    if (
        isinstance(error, year_plan.AlreadyAccepted)
        and error.view_id
        and error.view_id == i.view.get("id")
    ):
        i.ack()  # the same form again (a retry, a double click): as the first answer
        return
    i.ack(response_action="errors", errors={rules.TIME: str(error)})


def _raced(i: Interaction, _error: IntegrityError) -> None:
    # a racing acceptance got the year's row first
    i.ack(response_action="errors", errors={rules.TIME: "This year was accepted already."})


@route.view(blocks.YEAR_CALLBACK)
@on_submission(_refuse, conflict=_raced)
def handle_year_submission(i: Interaction) -> None:
    """Accept the year: its calls are saved in the request, their meetings and messages
    follow the ack."""
    deps, view = i.deps, i.view
    settings = deps.settings
    meta = i.metadata()
    community_id = rules.parse_id(meta.get("community"))
    first = _first_of(meta, settings.program_year_start)
    form, errors = read_form(view, first, i.user_id, deps.clock.now())
    if form is None:
        i.ack(response_action="errors", errors=errors)
        return
    community = i.community_allowing(community_id, Action.SCHEDULE_CALL, "schedule its calls")
    accepted = year_plan.accept(
        i.session,
        community,
        first,
        form.chosen,
        at=form.at,
        zone=form.zone,
        duration=form.duration,
        user_id=i.user_id,
        now=i.deps.clock.now(),
        holidays_country=settings.holidays,
        year_start=settings.program_year_start,
        with_meeting=deps.conferencing.configured,
        org_zone=settings.timezone,
        view_id=view.get("id"),
        zoom_hosts=deps.conferencing.hosts,
    )
    i.ack()
    call_ids = [c.id for c in accepted.calls]
    i.later(flows.after_year, i.client, deps, call_ids, i.user_id, accepted)


register = route.register
