"""The tables. All times are aware UTC datetimes; ids we mint are time-ordered strings.

The statuses a row may hold are named here too, beside their table: `SendStatus` (with the
moves a send may make) and `DigestPostStatus`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    FunctionElement,
    Index,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DDL
from sqlmodel import Field, SQLModel

from storage import feed_sql


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite hands back naive ones, so they are made aware here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class feed_position(FunctionElement[int]):
    """A new response's place in the feed (`storage.feed`): handed out under a shared advisory
    lock on PostgreSQL (`storage.feed_sql`); 0 on SQLite, whose writers take turns."""

    type = BigInteger()
    inherit_cache = True


@compiles(feed_position, "postgresql")
def _feed_position_on_postgresql(element: feed_position, compiler: Any, **kw: Any) -> str:
    return feed_sql.COLUMN_DEFAULT


@compiles(feed_position)
def _feed_position_elsewhere(element: feed_position, compiler: Any, **kw: Any) -> str:
    return "0"


class SendStatus(StrEnum):
    """Where a send stands; each value is what `sends.status` stores.

    A send is created `scheduled` (due now, or when quiet hours end); then the moves it may
    make, and what makes them:
      scheduled -> claimed              a dispatcher claims it when due (one worker wins)
      claimed -> scheduled              released: shutdown, a stale claim, quiet hours at send time
      claimed -> suppressed             opted out since it was scheduled (re-checked at send time)
      claimed -> failed                 its message could not be rendered
      claimed -> sending                just before the provider is called, only by the claimer
      sending -> sent | failed | unknown  the provider took it | refused it | its answer was lost
      sending -> scheduled              the provider asked for a retry: nothing left
      sending -> unknown                its worker stopped while sending
      sent | unknown -> delivered | undelivered | failed  the provider's later report (SMS)
      unknown -> sent                   the provider's later report
      scheduled | claimed -> cancelled  a `cancel_on` event, or the contact was forgotten
    A send in `sending` is never retried: it may have left. delivered, undelivered, failed,
    cancelled and suppressed are final.
    """

    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"


# Sends not gone out yet: they may still be cancelled.
SEND_PENDING = (SendStatus.SCHEDULED, SendStatus.CLAIMED)
# Sends that left: the provider took them.
SEND_LEFT = (SendStatus.SENT, SendStatus.DELIVERED, SendStatus.UNDELIVERED)
# Sends that count against cooldowns and caps: anything that reached or may reach the contact.
SEND_COUNTED = (*SEND_PENDING, SendStatus.SENDING, *SEND_LEFT, SendStatus.UNKNOWN)


class DigestPostStatus(StrEnum):
    """Where a digest window stands: `claimed` by one process, then `posted` (see `DigestPost`)."""

    CLAIMED = "claimed"
    POSTED = "posted"


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"

    id: str = Field(primary_key=True)
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    timezone: str | None = None
    locale: str | None = None
    created_at: datetime = _time()
    updated_at: datetime = _time()
    forgotten_at: datetime | None = _time(nullable=True)


class Event(SQLModel, table=True):
    """A touchpoint event; `event_id` is the sender's idempotency key (null when none was given)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_contact_time", "contact_id", "occurred_at"),)

    pk: str = Field(primary_key=True)
    event_id: str | None = Field(default=None, sa_column=Column(Text, unique=True, nullable=True))
    type: str
    contact_id: str
    occurred_at: datetime = _time()
    received_at: datetime = _time(index=True)
    properties: dict[str, Any] = _json()
    source: str = "api"


class Decision(SQLModel, table=True):
    """What one trigger decided for one event; `reason` says why a send did not happen."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_contact", "contact_id", "decided_at"),
        Index("ix_decisions_outcome", "outcome", "reason", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_pk: str = Field(index=True)
    contact_id: str
    trigger: str
    survey: str
    outcome: str
    reason: str | None = None
    detail: str | None = None  # for people: a deferral's time zone and where it came from
    send_id: str | None = None
    due_at: datetime | None = _time(nullable=True)
    decided_at: datetime = _time()


class Send(SQLModel, table=True):
    """One survey invitation over one channel; at most one per (event, trigger), and one fallback."""

    __tablename__ = "sends"
    __table_args__ = (
        # One send per (event, trigger), and beside it at most one fallback to another channel.
        UniqueConstraint("event_pk", "trigger", "fallback", name="uq_sends_event_trigger_fallback"),
        UniqueConstraint("fallback_of", name="uq_sends_fallback_of"),
        Index("ix_sends_due", "status", "due_at"),
        Index("ix_sends_contact_due", "contact_id", "due_at"),
        Index("ix_sends_address", "to_address", "status"),
        Index("ix_sends_survey_sent", "survey", "sent_at", "status"),
    )

    id: str = Field(primary_key=True)
    event_pk: str
    trigger: str
    survey: str
    metric: str
    contact_id: str
    channel: str
    to_address: str | None = None
    status: str = SendStatus.SCHEDULED
    attempts: int = 0
    due_at: datetime = _time()
    created_at: datetime = _time()
    updated_at: datetime = _time()
    claimed_by: str | None = None
    claimed_at: datetime | None = _time(nullable=True)
    sent_at: datetime | None = _time(nullable=True)
    expires_at: datetime | None = _time(nullable=True)
    provider_message_id: str | None = Field(default=None, index=True)
    reason: str | None = None
    reply_state: str | None = None
    # Set by erasure when it empties `to_address`: the address's keyed hash, so the send's
    # unsubscribe link (RFC 8058: never expires) can still opt the address out.
    address_key: str | None = None
    # A `surveybot send-test` send: past delay, quiet hours and throttle, and counted nowhere
    # (no cooldown, cap or metric looks at it); its reply is kept with `counted` false.
    test: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # The language its texts went out in (a key of the survey's translations, or the survey's
    # own locale): the rating page, the email frame and the SMS answers follow it.
    locale: str | None = None
    # A trigger's `fallback`: this send takes over from `fallback_of`, which failed or was
    # undelivered, on the contact's next channel. Never counted as another survey.
    fallback: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    fallback_of: str | None = None


class Response(SQLModel, table=True):
    """A score (and optional comment) for a send; `counted` is false for replies after expiry."""

    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_survey_time", "survey", "received_at"),
        Index("ix_responses_contact", "contact_id"),
        # Covers the digest aggregates: one index range scan per window, no table reads on SQLite.
        Index(
            "ix_responses_metrics",
            "survey",
            "received_at",
            "counted",
            "score",
            "metric",
            "channel",
            "send_id",
        ),
        Index("ix_responses_feed", "feed_seq", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    send_id: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    contact_id: str
    survey: str
    metric: str
    channel: str
    score: int
    comment: str | None = None
    counted: bool = True
    received_at: datetime = _time()
    updated_at: datetime = _time()
    # The feed's order (`GET /v1/responses`): set by the database as the row is inserted.
    feed_seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=False, server_default=feed_position())
    )


for _ddl, _when, _target in (
    (feed_sql.CREATE_SEQUENCE, "before_create", SQLModel.metadata),
    (feed_sql.CREATE_FUNCTION, "before_create", SQLModel.metadata),
    (feed_sql.OWN_SEQUENCE, "after_create", Response.__table__),  # type: ignore[attr-defined]
):
    event.listen(_target, _when, DDL(_ddl).execute_if(dialect="postgresql"))


class InboundMessage(SQLModel, table=True):
    """Every SMS that came in, answered or not; `message_sid` makes a retried webhook count once.

    `kind` says what it was taken as: score, comment, reprompt (no score: asked again), extra
    (kept, not a rating), opt_out, opt_in, help, unmatched (no open survey for the number), late
    (after expiry). `answer` is what we replied, so a retry gets the same answer.
    """

    __tablename__ = "inbound_messages"

    id: int | None = Field(default=None, primary_key=True)
    message_sid: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    from_address: str
    to_address: str
    body: str
    kind: str
    send_id: str | None = Field(default=None, index=True)
    answer: str | None = None
    received_at: datetime = _time()


class OptOut(SQLModel, table=True):
    """An address that must never be surveyed; kept as a keyed hash so erasure cannot undo it."""

    __tablename__ = "opt_outs"

    address_key: str = Field(primary_key=True)
    channel: str
    source: str
    created_at: datetime = _time()


class Purge(SQLModel, table=True):
    """One retention run that removed something: `kind` (events, comments, inbound_messages)
    older than `cutoff` is gone; `rows` says how many. `explain` shows it beside a history."""

    __tablename__ = "purges"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    cutoff: datetime = _time()
    rows: int
    ran_at: datetime = _time()


class DailyCount(SQLModel, table=True):
    """Sends scheduled per UTC day, kept as a counter so the daily cap costs one row, not a scan."""

    __tablename__ = "daily_counts"

    day: str = Field(primary_key=True)
    count: int = 0


class Setting(SQLModel, table=True):
    """Instance-wide values that must survive restarts, such as a generated signing key."""

    __tablename__ = "settings"

    key: str = Field(primary_key=True)
    value: str


class DigestPost(SQLModel, table=True):
    """One digest window (digest name, window end = its scheduled fire time), posted once.

    A process claims the row before posting (`claimed`), then marks it `posted`; a claim whose
    process died is taken over once `claimed_at` is older than the lease.
    """

    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("digest", "window_end", name="uq_digest_posts_window"),)

    id: int | None = Field(default=None, primary_key=True)
    digest: str
    window_end: datetime = _time()
    status: str = DigestPostStatus.CLAIMED
    claimed_by: str
    claimed_at: datetime = _time()
    posted_at: datetime | None = _time(nullable=True)
    channel: str | None = None
    ts: str | None = None


class Alert(SQLModel, table=True):
    """A low score posted to the alerts channel, once per send, and its follow-up.

    `posting_by`/`created_at` claim the post (taken over after a lease if never `posted_at`);
    `claimed_*` is who took the follow-up ("I'll follow up"), `resolved_*` who closed it.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_posted", "posted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    send_id: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    survey: str
    score: int
    posting_by: str
    created_at: datetime = _time()
    posted_at: datetime | None = _time(nullable=True)
    channel: str | None = None
    ts: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = _time(nullable=True)
    resolved_by: str | None = None
    resolved_at: datetime | None = _time(nullable=True)


class OutboxStatus(StrEnum):
    """Where an outbox message stands (see `OutboxMessage`)."""

    PENDING = "pending"  # due at `next_attempt_at`; claimed by one worker at a time
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # retried until `give_up_at`; `surveybot webhooks retry` sends it again
    DROPPED = "dropped"  # its contact was erased before it left: never sent


class OutboxMessage(SQLModel, table=True):
    """One message to one target (a webhook, or the Zendesk write-back), written in the same
    transaction as the change it reports, so a crash loses none. `id` is the `webhook-id`,
    the same on every attempt; `body` is the exact JSON sent (signed as is)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_contact", "contact_id"),
        Index("ix_outbox_created", "created_at"),
    )

    id: str = Field(primary_key=True)
    target: str
    kind: str  # webhook | zendesk
    event_type: str
    contact_id: str | None = None
    send_id: str | None = None
    ticket_id: str | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = OutboxStatus.PENDING
    attempts: int = 0
    created_at: datetime = _time()
    next_attempt_at: datetime = _time()
    give_up_at: datetime = _time()
    claimed_by: str | None = None
    claimed_until: datetime | None = _time(nullable=True)
    delivered_at: datetime | None = _time(nullable=True)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Worker(SQLModel, table=True):
    """A `surveybot run` process that proves it is alive by holding a lock for its lifetime.

    On PostgreSQL the lock is a session advisory lock keyed by `id`; on SQLite an flock on the
    file `<database>.workers/<id>.lock`. A lock that another process can take means its holder is
    gone: `storage.liveness` then hands the worker's sends on and deletes its row.
    """

    __tablename__ = "workers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    started_at: datetime = _time()


class SendPace(SQLModel, table=True):
    """The next free send slot of a channel, shared by every process: the fleet's pace.

    `next_slot` is in seconds since the epoch, on the database's clock (PostgreSQL) or the
    machine's (SQLite, whose processes share one machine)."""

    __tablename__ = "send_pace"

    channel: str = Field(primary_key=True)
    next_slot: float


class Reminder(SQLModel, table=True):
    """The one reminder of a send (`send_id` is the key: a second cannot exist).

    Created `scheduled` in the transaction that records its send as sent, due `reminder.after`
    later; it then moves through the same states as a send (`SendStatus`): claimed by one worker,
    `sending` just before the provider is called, then sent, failed or unknown; `suppressed`
    (with `reason`) when the re-check at its due time drops it. It counts against no gate.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "status", "due_at"),)

    send_id: str = Field(primary_key=True)
    status: str = SendStatus.SCHEDULED
    attempts: int = 0
    due_at: datetime = _time()
    created_at: datetime = _time()
    updated_at: datetime = _time()
    claimed_by: str | None = None
    claimed_at: datetime | None = _time(nullable=True)
    sent_at: datetime | None = _time(nullable=True)
    provider_message_id: str | None = None
    reason: str | None = None


class MetricRollup(SQLModel, table=True):
    """Counted responses per survey, UTC hour of `received_at`, and group: a score histogram.

    `path` is the group-by path ('' for the survey overall), `grp` its value: '' for None, else
    '=' and the value as text. `s0`..`s10` count the scores 0..10; `n` and `score_sum` all of
    them. Kept in step with the responses by `storage.rollups` in the writers' transactions.
    """

    __tablename__ = "metric_rollups"

    survey: str = Field(primary_key=True)
    path: str = Field(primary_key=True)
    hour: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    grp: str = Field(primary_key=True)
    metric: str
    n: int = 0
    score_sum: int = 0
    s0: int = 0
    s1: int = 0
    s2: int = 0
    s3: int = 0
    s4: int = 0
    s5: int = 0
    s6: int = 0
    s7: int = 0
    s8: int = 0
    s9: int = 0
    s10: int = 0


class RollupPath(SQLModel, table=True):
    """A group-by path whose rollups are kept (built from every response, then maintained)."""

    __tablename__ = "rollup_paths"

    path: str = Field(primary_key=True)
    built_at: datetime = _time()


class SendRollup(SQLModel, table=True):
    """Sends that left, per survey and UTC hour of `sent_at`: the response rate's parts.

    `sends_left` and `responded` are what `storage.metrics.send_counts` counts (a send replaced
    by its fallback left out); `first_asks`, `first_responses`, `reminders` and
    `reminder_responses` what `storage.reminders.reminder_rates` counts. Kept in step by
    `storage.send_rollups` in the transactions that move a send, its response or its reminder.
    """

    __tablename__ = "send_rollups"

    survey: str = Field(primary_key=True)
    hour: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    sends_left: int = 0
    responded: int = 0
    first_asks: int = 0
    first_responses: int = 0
    reminders: int = 0
    reminder_responses: int = 0


class HoldRollup(SQLModel, table=True):
    """Decisions that held a survey back, per survey, UTC hour of `decided_at` and reason (as
    `storage.metrics.holds_by_reason` names it); added to as the decisions are inserted."""

    __tablename__ = "hold_rollups"

    survey: str = Field(primary_key=True)
    hour: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    reason: str = Field(primary_key=True)
    n: int = 0


class ThemeRollup(SQLModel, table=True):
    """Counted responses per survey, UTC hour of `received_at`, metric, theme and score.

    `theme` is '*' for every counted response, '' for those with a comment, else the key of a
    theme's keyword set (`storage.theme_rollups.theme_key`) for comments naming any of them:
    with the score kept, any survey's "low" threshold is answered. Kept by `storage.theme_rollups`.
    """

    __tablename__ = "theme_rollups"

    survey: str = Field(primary_key=True)
    hour: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    metric: str = Field(primary_key=True)
    theme: str = Field(primary_key=True)
    score: int = Field(primary_key=True)
    n: int = 0


class RollupTheme(SQLModel, table=True):
    """A theme keyword set whose rollups are kept (built from every response, then maintained)."""

    __tablename__ = "rollup_themes"

    theme: str = Field(primary_key=True)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    built_at: datetime = _time()


class SignInLink(SQLModel, table=True):
    """A one-time dashboard sign-in link: only the SHA-256 of its token is kept, so a copy of the
    database signs nobody in. `used_at` is set by the one request that spends it."""

    __tablename__ = "sign_in_links"

    token_hash: str = Field(primary_key=True)
    email: str
    created_at: datetime = _time()
    expires_at: datetime = _time(index=True)
    used_at: datetime | None = _time(nullable=True)


class OutcomeEvent(SQLModel, table=True):
    """A kept copy of an event whose type an outcome watches (its `on`, or churn's `base`): the
    type, contact and time only, so retention leaves it and erasure has nothing in it to empty.
    Outcomes keep counting from these after the event itself is purged (see docs/outcomes.md)."""

    __tablename__ = "outcome_events"
    __table_args__ = (Index("ix_outcome_events_contact", "contact_id", "type", "occurred_at"),)

    event_pk: str = Field(primary_key=True)
    contact_id: str
    type: str
    occurred_at: datetime = _time()


class OutcomeLink(SQLModel, table=True):
    """One send followed for one outcome: answered with `score` at `since` (-1: not answered,
    `since` is when it left), and `first_at` the first `on` event of its contact in
    (`since`, `until`], `until` = since + the outcome's `within`. Kept by `storage.outcomes`."""

    __tablename__ = "outcome_links"
    __table_args__ = (
        Index("ix_outcome_links_contact", "contact_id", "outcome", "since"),
        Index("ix_outcome_links_cohort", "outcome", "survey", "since", "score", "first_at"),
    )

    send_id: str = Field(primary_key=True)
    outcome: str = Field(primary_key=True)
    survey: str
    contact_id: str
    score: int
    since: datetime = _time()
    until: datetime = _time()
    first_at: datetime | None = _time(nullable=True)


class OutcomeRollup(SQLModel, table=True):
    """Outcome links counted per outcome, survey, UTC day of `since` and score (-1: no answer):
    `n` followed, `done` of them had the outcome. Kept in step with `outcome_links`."""

    __tablename__ = "outcome_rollups"

    outcome: str = Field(primary_key=True)
    survey: str = Field(primary_key=True)
    day: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    score: int = Field(primary_key=True)
    n: int = 0
    done: int = 0


class ChurnContact(SQLModel, table=True):
    """A contact's first start event (churn's `base`) and first churn event, for churn per period."""

    __tablename__ = "churn_contacts"
    __table_args__ = (Index("ix_churn_contacts_times", "started_at", "churned_at"),)

    contact_id: str = Field(primary_key=True)
    started_at: datetime | None = _time(nullable=True)
    churned_at: datetime | None = _time(nullable=True)


class OutcomeDefinition(SQLModel, table=True):
    """The outcome definitions the links were built with; a changed one is rebuilt at start."""

    __tablename__ = "outcome_definitions"

    name: str = Field(primary_key=True)
    definition: str
    built_at: datetime = _time()
