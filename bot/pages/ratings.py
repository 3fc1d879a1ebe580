"""The pages behind the links in survey emails: rate (with a comment) and unsubscribe.

    GET  /r/{token}            the rating page, the link's score chosen; records nothing
    POST /r/{token}            records the score (and comment); `autosave=1` answers JSON
    GET  /unsubscribe/{token}  asks first, with a button
    POST /unsubscribe/{token}  opts the address out at once (also RFC 8058 one-click POSTs)

Why GET records nothing: mail scanners and link previews fetch every link in an email, so a
score saved on GET would be the scanner's. The page saves it instead: its form POSTs (works
with JavaScript off), and with JavaScript on it also saves the chosen score by itself once the
page has been visible for a second, so a customer who taps a score and closes the tab is still
counted; scanners that only fetch, or render without ever showing the page, save nothing.

The router only translates HTTP; what a rating does to the data is `RatingStore`'s contract,
implemented over the database by storage and in memory by the tests.

Each page speaks the send's language (`SendView.locale`), dressed in the config's `brand`; a
link that names no usable send is answered in the browser's language (Accept-Language).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Protocol

import jinja2
from fastapi import APIRouter, Form, Header
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.pages.links import ExpiredLink, InvalidLink, LinkSigner
from bot.runtime.clock import Clock, SystemClock
from bot.texts.brand import BrandConfig
from bot.texts.catalogs import language_from_header
from bot.texts.rendering import layout_templates
from bot.web.schemas import PAGE_ERRORS

COMMENT_MAX = 2000
RatingResult = Literal["recorded", "updated", "closed"]


Layouts = Callable[[str | None], jinja2.Environment]
AcceptLanguage = Annotated[str | None, Header(include_in_schema=False)]


def page_templates() -> Layouts:
    """The page templates by locale, autoescaped."""
    return layout_templates


@dataclass(frozen=True)
class SendView:
    """What the pages need to know about one email send and its response so far."""

    send_id: str
    metric: str  # csat | ces | nps
    scale: tuple[int, int]  # inclusive, e.g. (1, 5)
    open_until: datetime | None  # the survey's expiry; None: never closes
    score: int | None = None  # the current response, if any
    comment: str | None = None
    question: str | None = None  # the heading of the page; None: the metric's usual question
    comment_prompt: str | None = None  # the label of the comment box (the survey's follow-up)
    locale: str | None = None  # the send's language: the page's words follow it

    def is_open(self, now: datetime) -> bool:
        return self.open_until is None or now < self.open_until


class RatingStore(Protocol):
    """The data behind the pages. Every method is one atomic change and safe to call twice."""

    def get_send(self, send_id: str) -> SendView | None:
        """The send and its current response; None if there is no such send (or it was erased)."""

    def record_rating(self, send_id: str, score: int, comment: str | None, now: datetime) -> RatingResult:
        """Store the send's one response.

        No response yet: store it, counted only if `now` is before the survey's expiry
        ("recorded"). A response already: replace its score, and its comment unless `comment`
        is None, if the survey is still open ("updated"); after expiry change nothing
        ("closed"). An empty comment "" clears the comment. `score` is on the scale.
        """

    def opt_out_send_address(self, send_id: str, now: datetime) -> bool:
        """Opt the send's address out of every survey by email; False if the send is unknown."""


def rating_routes(
    signer: LinkSigner,
    store: RatingStore,
    templates: Layouts,
    *,
    clock: Clock | None = None,
    link_max_age: timedelta | None = timedelta(days=90),
    brand: BrandConfig | None = None,
) -> APIRouter:
    """The rating and unsubscribe routes; `link_max_age` refuses rating links older than that
    (unsubscribe links never expire: RFC 8058 wants them to keep working)."""
    pages = _Pages(templates, brand or BrandConfig())
    now = (clock or SystemClock()).now
    router = APIRouter()

    @router.get("/r/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS)
    def show_rating(token: str, accept_language: AcceptLanguage = None) -> Response:
        try:
            send, score = _rated_send(signer, store, token, link_max_age)
        except _Unusable as problem:
            return pages.invalid(problem.status, language_from_header(accept_language))
        if send.score is not None and not send.is_open(now()):
            return pages.thanks(send, moment=now())
        return pages.rate(send, chosen=score, late=not send.is_open(now()))

    # Sync handlers: FastAPI runs them in its thread pool, so a store doing database I/O
    # never blocks the event loop.
    @router.post("/r/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS)
    def record_rating(
        token: str,
        score: Annotated[str | None, Form()] = None,
        comment: Annotated[str | None, Form()] = None,
        autosave: Annotated[str | None, Form()] = None,
        accept_language: AcceptLanguage = None,
    ) -> Response:
        try:
            send, link_score = _rated_send(signer, store, token, link_max_age)
        except _Unusable as problem:
            return pages.invalid(problem.status, language_from_header(accept_language))
        chosen = _score_from(score, send.scale, default=link_score)
        saving_alone = autosave == "1"
        text = None if saving_alone else _comment_from(comment)
        result = store.record_rating(send.send_id, chosen, text, now())
        if saving_alone:
            return JSONResponse({"result": result}, headers=NO_STORE)
        saved = store.get_send(send.send_id) or send
        return pages.thanks(saved, moment=now())

    @router.get("/unsubscribe/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS)
    def confirm_unsubscribe(token: str, accept_language: AcceptLanguage = None) -> Response:
        try:
            send_id = signer.read_unsubscribe_token(token)
        except InvalidLink as error:
            return pages.invalid(_link_status(error), language_from_header(accept_language))
        return pages.render("unsubscribe.html", _locale_of(store, send_id, accept_language))

    @router.post("/unsubscribe/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS)
    def unsubscribe(token: str, accept_language: AcceptLanguage = None) -> Response:
        # Any POST opts out: the page's button and a mail app's `List-Unsubscribe=One-Click`
        # alike. Answer 200 directly; RFC 8058 senders must not redirect.
        try:
            send_id = signer.read_unsubscribe_token(token)
        except InvalidLink as error:
            return pages.invalid(_link_status(error), language_from_header(accept_language))
        if not store.opt_out_send_address(send_id, now()):
            return pages.invalid(404, language_from_header(accept_language))
        return pages.render("unsubscribed.html", _locale_of(store, send_id, accept_language))

    return router


# Pages hold a per-person token in their URL: never cache them, never leak it as a Referer.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _locale_of(store: RatingStore, send_id: str, accept_language: str | None) -> str | None:
    """The send's language; the browser's when the send is gone (erased)."""
    send = store.get_send(send_id)
    return send.locale if send and send.locale else language_from_header(accept_language)


class _Pages:
    def __init__(self, templates: Layouts, brand: BrandConfig) -> None:
        self._templates = templates
        self._brand = brand
        logo = brand.logo_origin
        self._img_src = f"img-src {logo}; " if logo else ""

    def render(self, name: str, locale: str | None, status_code: int = 200, **context: Any) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        template = self._templates(locale).get_template(name)
        html = template.render(csp_nonce=nonce, brand=self._brand, **context)
        headers = {
            **NO_STORE,
            "X-Robots-Tag": "noindex",
            "Content-Language": str(template.globals["lang"]),
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; {self._img_src}"
                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
        }
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def rate(self, send: SendView, *, chosen: int, late: bool) -> HTMLResponse:
        return self.render(
            "rate.html",
            send.locale,
            question=send.question,
            comment_prompt=send.comment_prompt,
            metric=send.metric,
            scores=_scores(send.scale),
            chosen=chosen,
            comment=send.comment,
            late=late,
            comment_max=COMMENT_MAX,
        )

    def thanks(self, send: SendView, *, moment: datetime) -> HTMLResponse:
        return self.render(
            "thanks.html",
            send.locale,
            comment_prompt=send.comment_prompt,
            metric=send.metric,
            scores=_scores(send.scale),
            score=send.score,
            comment=send.comment,
            can_change=send.is_open(moment),
            comment_max=COMMENT_MAX,
        )

    def invalid(self, status: int, locale: str | None) -> HTMLResponse:
        return self.render("invalid.html", locale, status_code=status, expired=status == 410)


class _Unusable(Exception):
    """The link cannot be used; `status` is the HTTP status of the page that says so."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _rated_send(
    signer: LinkSigner, store: RatingStore, token: str, max_age: timedelta | None
) -> tuple[SendView, int]:
    """The send and score a rating token names; raise `_Unusable` for any problem."""
    try:
        send_id, score = signer.read_rating_token(token, max_age=max_age)
    except InvalidLink as error:
        raise _Unusable(_link_status(error)) from None
    send = store.get_send(send_id)
    if send is None:
        raise _Unusable(404)
    if not send.scale[0] <= score <= send.scale[1]:
        raise _Unusable(400)
    return send, score


def _link_status(error: InvalidLink) -> int:
    """410 Gone for a genuine but expired link, 400 for anything else."""
    return 410 if isinstance(error, ExpiredLink) else 400


def _scores(scale: tuple[int, int]) -> list[int]:
    return list(range(scale[0], scale[1] + 1))


def _score_from(value: str | None, scale: tuple[int, int], *, default: int) -> int:
    """The posted score if it is a number on the scale, else the link's own score."""
    try:
        score = int(value or "")
    except ValueError:
        return default
    return score if scale[0] <= score <= scale[1] else default


def _comment_from(value: str | None) -> str:
    # PostgreSQL text cannot hold a NUL, and nothing a person types needs one: refusing the
    # comment would lose the score that came with it.
    return (value or "").replace("\x00", "").strip()[:COMMENT_MAX]
