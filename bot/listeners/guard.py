"""The one guard of every button, menu, shortcut and form listener.

`@on_action` (a click: acked at once) and `@on_submission(...)` (a form: the listener
acks with its answer) wrap a listener that takes one `Interaction`: who acted, the ids
and answers of the payload, copbot's `Deps` (Bolt passes the context's `deps` by name)
and one unit of work, opened on first use of `i.session`.

When the listener returns, the guard commits the unit of work, then hands what the
listener queued (`i.later`, `i.open_view`) to the pools, so the work after the ack sees
committed rows. A `CopError` rolls the unit of work back, drops what was queued and
becomes a private answer to the person, on the surface the listener names: under the
message (`under_message`, the default), in a direct message (`in_direct_message`, for
App Home and modals, which have no response_url), or on a field of the form
(`on_submission("field")`).

`i.allowed(Model, raw_id, action, what, missing=...)` is the one check for "load the
object an id names and check the person's role in that object's own community".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.blocks.community import message_for
from bot.deps import Deps
from bot.flows import home
from bot.listeners.common import modal_values, view_metadata
from bot.services import CopError, access
from bot.services.permissions import Action, Actor
from bot.slack_client import post_message, tell
from storage.db import session_scope
from storage.models import Community

T = TypeVar("T")
NO_ONE = "That request does not say who sent it; nothing was done."
Listener = Callable[["Interaction"], None]
Refusal = Callable[["Interaction", CopError], None]
Conflict = Callable[["Interaction", IntegrityError], None]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Interaction:
    """One click, shortcut or form submission, as its listener sees it."""

    def __init__(
        self,
        ack: Ack,
        body: dict[str, Any],
        client: WebClient,
        deps: Deps,
        context: dict[str, Any],
    ) -> None:
        self.ack = ack
        self.body = body
        self.client = client
        self.deps = deps
        self.context = context
        self._stack = ExitStack()
        self._session: Session | None = None
        self._after: list[tuple[Callable[..., Any], tuple, dict]] = []
        self._views: list[dict[str, Any]] = []

    # ---- the payload ------------------------------------------------------------------
    @property
    def user_id(self) -> str:
        return str(_dict(self.body.get("user")).get("id") or "")

    @property
    def actor(self) -> Actor:
        return self.deps.actor(self.user_id)

    @property
    def response_url(self) -> str:
        return str(self.body.get("response_url") or "")

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id") or "")

    @property
    def view(self) -> dict[str, Any]:
        """The modal submitted, or the one a button was pressed in ({} if none)."""
        return _dict(self.body.get("view"))

    @property
    def team_id(self) -> str:
        return _dict(self.body.get("team")).get("id") or self.view.get("team_id", "")

    @property
    def action(self) -> dict[str, Any]:
        """The first action of a click ({} for anything else)."""
        actions = self.body.get("actions")
        return _dict(actions[0]) if isinstance(actions, list) and actions else {}

    @property
    def value(self) -> str:
        """The value of the button pressed ("" when it has none)."""
        return str(self.action.get("value") or "")

    def form_errors(self, errors: dict[str, str]) -> bool:
        """Answer `errors` on the form's fields (it stays open); False when there are
        none."""
        if errors:
            self.ack(response_action="errors", errors=errors)
        return bool(errors)

    def values(self) -> dict[str, Any]:
        """The submitted form's inputs by block_id (`common.modal_values`)."""
        return modal_values(self.view)

    def metadata(self) -> dict[str, Any]:
        """The form's private_metadata as a dict; CopError when it is not copbot's."""
        return view_metadata(self.view)

    # ---- the unit of work and the checks ------------------------------------------------
    @property
    def session(self) -> Session:
        """The interaction's unit of work: committed when the listener returns, rolled
        back when it raises."""
        if self._session is None:
            self._session = self._stack.enter_context(session_scope(self.deps.engine))
        return self._session

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A unit of work of its own, committed at the end of the block, for a listener
        that needs two in a row (a check, then a write that takes turns); `i.session` is
        it inside the block."""
        outer = self._session
        with session_scope(self.deps.engine) as session:
            self._session = session
            try:
                yield session
            finally:
                self._session = outer

    def allowed(
        self, model: type[T], raw: Any, action: Action, what: str = "", **why: str
    ) -> tuple[T, Community]:
        """The row `raw` names and its own community, if the person may do `action`
        there; CopError saying why not (`bot.services.access.allowed`: `missing`,
        `malformed`, `refusal`)."""
        return access.allowed(self.session, self.actor, model, raw, action, what, **why)

    def community_allowing(
        self, community_id: Any, action: Action, what: str = "", *, refusal: str = ""
    ) -> Community:
        """The community an id names, if the person may do `action` in it."""
        return access.community_allowing(
            self.session, self.actor, community_id, action, what, refusal=refusal
        )

    # ---- handing off ------------------------------------------------------------------
    def later(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run `fn` on the background pool once the unit of work is committed."""
        self._after.append((fn, args, kwargs))

    def open_view(self, view: dict[str, Any]) -> None:
        """Open `view` as a modal (on the views pool, with this request's trigger_id)."""
        self._views.append(view)

    def home_after(self, fn: Callable[..., Any] | None = None, /, *args: Any) -> None:
        """After the ack: `fn(*args)` when given, then the person's App Home published
        again, in that order (Home shows what `fn` did)."""

        def then_home() -> None:
            if fn is not None:
                fn(*args)
            home.publish(self.client, self.deps, self.user_id)

        self.later(then_home)

    def tell(self, text: str) -> None:
        """A private note under the message the person clicked, after the ack."""
        self.later(tell, self.response_url, text)

    def _hand_off(self) -> None:
        for view in self._views:
            self.deps.open_view(self.client, self.trigger_id, view)
        for fn, args, kwargs in self._after:
            self.deps.later(fn, *args, **kwargs)

    def _run(self, listener: Listener, refuse: Refusal, conflict: Conflict | None) -> None:
        try:
            if not self.user_id:  # Slack always says who acted: a forged payload
                raise CopError(NO_ONE)
            with self._stack:
                listener(self)
        except CopError as e:
            self._drop()
            refuse(self, e)
        except IntegrityError as e:
            if conflict is None:
                raise
            self._drop()
            conflict(self, e)
        self._hand_off()

    def _drop(self) -> None:
        self._after.clear()
        self._views.clear()


# ---- where a refusal goes -----------------------------------------------------------------
def under_message(i: Interaction, error: CopError) -> None:
    """Told privately under the message whose button was pressed."""
    i.tell(str(error))


def in_direct_message(i: Interaction, error: CopError) -> None:
    """Told in a direct message (App Home and modals have no response_url)."""
    i.later(post_message, i.client, i.user_id, message_for(str(error)))


def where_possible(i: Interaction, error: CopError) -> None:
    """Under the message when there is one, else in a direct message."""
    (under_message if i.response_url else in_direct_message)(i, error)


def on_field(field: str) -> Refusal:
    """Shown on the form's `field`; the form stays open."""

    def refuse(i: Interaction, error: CopError) -> None:
        i.ack(response_action="errors", errors={field: str(error)})

    return refuse


# ---- the decorators -----------------------------------------------------------------------
def _listener(
    fn: Listener, refuse: Refusal, conflict: Conflict | None, ack_first: bool
) -> Callable[..., None]:
    # Bolt passes arguments by the names the function declares (`inspect.unwrap` first),
    # so the wrapper keeps its own signature: no `__wrapped__`
    def listener(
        ack: Ack, body: dict[str, Any], client: WebClient, deps: Deps, context: dict[str, Any]
    ) -> None:
        if ack_first:
            ack()
        Interaction(ack, body, client, deps, context)._run(fn, refuse, conflict)

    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(listener, name, getattr(fn, name))
    return listener


def on_action(fn: Listener | None = None, *, refuse: Refusal = under_message) -> Callable[..., Any]:
    """A click, menu choice or shortcut: acked at once; a CopError goes to `refuse`."""

    def wrap(f: Listener) -> Callable[..., None]:
        return _listener(f, refuse, None, ack_first=True)

    return wrap(fn) if fn is not None else wrap


def on_submission(
    refuse: str | Refusal, *, conflict: Conflict | None = None
) -> Callable[[Listener], Callable[..., None]]:
    """A form: the listener acks with its answer; a CopError goes on the field named
    (or to the refusal given). `conflict` answers when the database refused the unit of
    work as a duplicate (a racing or repeated submission), after its rollback."""
    refusal = on_field(refuse) if isinstance(refuse, str) else refuse

    def wrap(f: Listener) -> Callable[..., None]:
        return _listener(f, refusal, conflict, ack_first=False)

    return wrap
