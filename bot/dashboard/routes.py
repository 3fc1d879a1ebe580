"""The dashboard's routes, all under `/dashboard`; each checks the role on the server.

    GET  /dashboard/login               the sign-in form (an email address)
    POST /dashboard/login               sends a one-time link to a listed address
    GET  /dashboard/auth/{token}        asks to confirm; spends nothing (mail scanners fetch links)
    POST /dashboard/auth/{token}        spends the link, starts the session
    POST /dashboard/logout
    GET  /dashboard                     overview                          viewer
    GET  /dashboard/surveys/{name}      trend, breakdown, comments        viewer (contacts: manager)
    GET  /dashboard/journey             stages x periods, the CX index    viewer
    GET  /dashboard/outcomes            outcomes by score band, churn     viewer (window default 365d)
    GET  /dashboard/alerts              alerts; POST .../{send}/claim|resolve   manager
    GET  /dashboard/contacts/{id}       the `explain` timeline            manager
    GET  /dashboard/people              who may sign in                   admin

Every page takes `window` (24h, 7d, 30d ...) and `download=<table>` answers that table as CSV.
The handlers only translate HTTP; the pages' contents are `bot.dashboard.views`.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from bot.channels.base import Channel, OutboundMessage
from bot.config import Config
from bot.dashboard import views
from bot.dashboard.auth import Attempts, Session, SessionCookies, SignInLinks, same_origin, tokens_match
from bot.dashboard.chart import trend_svg
from bot.dashboard.downloads import csv_filename, table_csv
from bot.dashboard.journey import build_journey_page, journey_choice
from bot.metrics.rollups import DASHBOARD_PATHS
from bot.runtime.clock import Clock
from bot.texts import dashboard as words
from bot.texts import digest as texts
from bot.texts import journey as journey_words
from bot.texts.rendering import layout_templates
from storage import alerts as stored_alerts
from storage import dashboard as stored
from storage.db import Database
from triggers.durations import parse_duration
from triggers.metrics import METRICS
from triggers.paths import path_problem

log = logging.getLogger(__name__)

SESSION_COOKIE = "surveybot_session"
PRE_SESSION_COOKIE = "surveybot_presession"
WINDOWS = ["24h", "7d", "30d", "90d", "365d"]
MIN_WINDOW, MAX_WINDOW = timedelta(hours=1), timedelta(days=400)
SUGGESTED_PATHS = DASHBOARD_PATHS  # kept as rollups (see bot.metrics.rollups)


class FollowUp(Protocol):
    """Claim and resolve an alert's follow-up: `AlertPoster` (which redraws the Slack message)."""

    def claim(self, send_id: str, user: str) -> bool: ...

    def resolve(self, send_id: str, user: str) -> bool: ...


class StoredFollowUp:
    """The follow-up without Slack configured: the same rows, no message to redraw."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def claim(self, send_id: str, user: str) -> bool:
        with self.db.write() as conn:
            return stored_alerts.claim_follow_up(conn, send_id=send_id, user=user, now=self.clock.now())

    def resolve(self, send_id: str, user: str) -> bool:
        with self.db.write() as conn:
            return stored_alerts.resolve(conn, send_id=send_id, user=user, now=self.clock.now())


class _Refused(Exception):
    """Stop a request with this response (a redirect to sign in, a 403, a 400)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def dashboard_routes(
    config: Config, db: Database, clock: Clock, *, email: Channel | None, follow_up: FollowUp | None = None
) -> APIRouter:
    """The dashboard; `email` sends the sign-in links (None: only `surveybot dashboard login`)."""
    site = _Site(config, db, clock, email, follow_up or StoredFollowUp(db, clock))
    router = APIRouter(prefix="/dashboard", include_in_schema=False)
    router.add_api_route("/login", site.show_login, methods=["GET"])
    router.add_api_route("/login", site.ask_link, methods=["POST"])
    router.add_api_route("/auth/{token}", site.confirm_link, methods=["GET"])
    router.add_api_route("/auth/{token}", site.spend_link, methods=["POST"])
    router.add_api_route("/logout", site.logout, methods=["POST"])
    router.add_api_route("", site.overview, methods=["GET"])
    router.add_api_route("/surveys/{name}", site.survey, methods=["GET"])
    router.add_api_route("/journey", site.journey, methods=["GET"])
    router.add_api_route("/outcomes", site.outcomes, methods=["GET"])
    router.add_api_route("/alerts", site.alerts, methods=["GET"])
    router.add_api_route("/alerts/{send_id}/{action}", site.follow_up, methods=["POST"])
    router.add_api_route("/contacts/{contact_id}", site.contact, methods=["GET"])
    router.add_api_route("/people", site.people, methods=["GET"])
    return router


def _guarded(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Turns `_Refused` into its response (FastAPI reads the handler's own signature)."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except _Refused as refused:
            return refused.response

    return run


class _Site:
    def __init__(
        self, config: Config, db: Database, clock: Clock, email: Channel | None, follow_up: FollowUp
    ) -> None:
        self.config, self.db, self.clock, self.email, self.follow_ups = config, db, clock, email, follow_up
        settings = config.dashboard
        self.cookies = SessionCookies(settings, clock)
        self.links = SignInLinks(
            db, clock, public_url=config.server.public_url, lifetime=settings.link_lifetime
        )
        self.by_email = Attempts(clock, limit=5, period=timedelta(minutes=15))
        self.by_client = Attempts(clock, limit=30, period=timedelta(minutes=15))
        self.templates = layout_templates()
        self.secure = config.server.public_url.startswith("https://")

    # --- rendering ------------------------------------------------------------------------------

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        session: Session | None = None,
        csrf: str = "",
        **context: Any,
    ) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        html = self.templates.get_template(f"dashboard/{template}").render(
            csp_nonce=nonce, session=session, csrf=session.csrf if session else csrf, words=words,
            texts=texts, **context,
        )  # fmt: skip
        headers = {
            "Cache-Control": "no-store",
            # Not no-referrer: with it, browsers send `Origin: null` on our own forms' POSTs.
            "Referrer-Policy": "same-origin",
            "X-Robots-Tag": "noindex",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
        }
        return HTMLResponse(html, status_code=status, headers=headers)

    def problem(self, status: int, message: str, session: Session | None = None) -> HTMLResponse:
        return self.render("problem.html", status=status, session=session, message=message)

    # --- sessions ------------------------------------------------------------------------------

    def session(self, request: Request, needed: str) -> Session:
        """The signed-in person, if their role is `needed` or above; else stop the request."""
        session = self.cookies.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise _Refused(RedirectResponse("/dashboard/login", status_code=303))
        if not session.may(needed):
            raise _Refused(self.problem(403, words.role_refused(session.role, needed), session))
        return session

    def check_post(self, request: Request, given: str | None, expected: str | None) -> None:
        """A POST must come from our own pages: our Origin (when sent) and the form's token."""
        if not same_origin(request.headers.get("origin"), self.config.server.public_url) or not tokens_match(
            expected, given
        ):
            raise _Refused(self.problem(403, words.FORBIDDEN_POST))

    def pre_session(self, request: Request) -> tuple[str, str | None]:
        """(CSRF token for a form before sign-in, a new cookie value to set or None)."""
        token = self.cookies.read_pre_session(request.cookies.get(PRE_SESSION_COOKIE))
        if token:
            return token, None
        cookie, token = self.cookies.new_pre_session()
        return token, cookie

    def set_cookie(self, response: Response, name: str, value: str, max_age: timedelta) -> None:
        response.set_cookie(
            name, value, max_age=int(max_age.total_seconds()), path="/dashboard", httponly=True,
            samesite="lax", secure=self.secure,
        )  # fmt: skip

    # --- sign-in -------------------------------------------------------------------------------

    @_guarded
    def show_login(self, request: Request) -> Response:
        if self.cookies.read(request.cookies.get(SESSION_COOKIE)):
            return RedirectResponse("/dashboard", status_code=303)
        token, cookie = self.pre_session(request)
        response = self.render("login.html", csrf=token, can_email=self.email is not None)
        if cookie:
            self.set_cookie(response, PRE_SESSION_COOKIE, cookie, timedelta(days=1))
        return response

    @_guarded
    def ask_link(
        self, request: Request, email: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
    ) -> Response:
        self.check_post(request, csrf, self.cookies.read_pre_session(request.cookies.get(PRE_SESSION_COOKIE)))
        address = email.strip().lower()[:320]
        client = request.client.host if request.client else "-"
        if not self.by_client.allow(client) or not self.by_email.allow(address):
            return self.problem(429, words.TOO_MANY)
        if address in self.cookies.users and self.email is not None:
            self.send_link(address)
        return self.render("sent.html", message=words.LINK_SENT)

    def send_link(self, address: str) -> None:
        assert self.email is not None
        url = self.links.create(address)
        minutes = int(self.config.dashboard.link_lifetime.total_seconds() // 60)
        message = OutboundMessage(
            send_id=f"dashboard-sign-in-{secrets.token_hex(6)}", channel="email", to=address,
            survey="dashboard", metric="csat", body=words.sign_in_email(url, minutes),
            subject=words.SIGN_IN_SUBJECT,
        )  # fmt: skip
        outcome = self.email.send(message)
        log.info("dashboard sign-in link sent: %s", outcome.status)

    @_guarded
    def confirm_link(self, request: Request, token: str) -> Response:
        csrf, cookie = self.pre_session(request)
        response = self.render("confirm.html", csrf=csrf, token=token)
        if cookie:
            self.set_cookie(response, PRE_SESSION_COOKIE, cookie, timedelta(days=1))
        return response

    @_guarded
    def spend_link(self, request: Request, token: str, csrf: Annotated[str, Form()] = "") -> Response:
        self.check_post(request, csrf, self.cookies.read_pre_session(request.cookies.get(PRE_SESSION_COOKIE)))
        client = request.client.host if request.client else "-"
        if not self.by_client.allow(client):
            return self.problem(429, words.TOO_MANY)
        email = self.links.spend(token)
        if email is None or email not in self.cookies.users:
            return self.problem(400, words.BAD_LINK)
        response = RedirectResponse("/dashboard", status_code=303)
        self.set_cookie(
            response, SESSION_COOKIE, self.cookies.issue(email), self.config.dashboard.session_lifetime
        )
        response.delete_cookie(PRE_SESSION_COOKIE, path="/dashboard")
        return response

    @_guarded
    def logout(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        session = self.session(request, "viewer")
        self.check_post(request, csrf, session.csrf)
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/dashboard")
        return response

    # --- pages ---------------------------------------------------------------------------------

    def window(self, request: Request, session: Session) -> tuple[str, timedelta]:
        text = request.query_params.get("window") or "7d"
        try:
            window = parse_duration(text)
        except ValueError:
            window = timedelta(0)
        if not MIN_WINDOW <= window <= MAX_WINDOW:
            raise _Refused(self.problem(400, words.not_a_window(text), session))
        return text, window

    def page(
        self, request: Request, template: str, session: Session, tables: list[views.Table], **context: Any
    ) -> Response:
        """The page, or one of its tables as CSV when `download` names it."""
        wanted = request.query_params.get("download")
        if wanted is not None:
            table = next((t for t in tables if t.key == wanted), None)
            if table is None:
                return self.problem(404, f"download: there is no table {wanted!r} on this page", session)
            stem = context.get("download_stem", template.removesuffix(".html"))
            return Response(
                table_csv(table), media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{csv_filename(stem, table)}"',
                         "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
            )  # fmt: skip
        query = {k: v for k, v in request.query_params.items() if k != "download"}
        return self.render(template, session=session, query=query, windows=WINDOWS, **context)

    @_guarded
    def overview(self, request: Request) -> Response:
        session = self.session(request, "viewer")
        window_text, window = self.window(request, session)
        with self.db.read() as conn:
            overview = views.build_overview(conn, config=self.config, end=self.clock.now(), window=window)
        return self.page(
            request, "overview.html", session, [overview.surveys], overview=overview, window=window_text,
            window_name=texts.window_name(window), download_stem="overview",
        )  # fmt: skip

    @_guarded
    def survey(self, request: Request, name: str) -> Response:
        session = self.session(request, "viewer")
        window_text, window = self.window(request, session)
        if name not in self.config.surveys:
            return self.problem(404, words.unknown_survey(name), session)
        by = (request.query_params.get("by") or "").strip() or None
        if by and (problem := _group_problem(by)):
            return self.problem(400, words.not_a_path(problem), session)
        params = request.query_params
        comments = views.CommentFilter(params.get("score", ""), params.get("theme", ""))
        if comments.theme and comments.theme not in self.config.themes:
            comments = views.CommentFilter(comments.score, "")
        with self.db.read() as conn:
            built = views.build_survey_page(
                conn, config=self.config, survey=name, end=self.clock.now(), window=window, group_by=by,
                comments=comments, show_contacts=session.may("manager"),
            )  # fmt: skip
        section = built.section
        chart = trend_svg(
            built.points, metric=section.metric, previous=section.previous,
            title=texts.chart_title(name, section.metric), window_name=texts.window_name(window),
        )  # fmt: skip
        tables = [t for t in (built.breakdown, built.comments, built.trend) if t is not None]
        paths = sorted({*SUGGESTED_PATHS, *(p for d in self.config.digests for p in d.group_by)})
        return self.page(
            request, "survey.html", session, tables, built=built, chart=Markup(chart), window=window_text,
            window_name=texts.window_name(window), name=name, by=by or "", paths=paths, filter=comments,
            scale=range(*_scale(section.metric)), theme_names=list(self.config.themes), download_stem=name,
        )  # fmt: skip

    @_guarded
    def journey(self, request: Request) -> Response:
        session = self.session(request, "viewer")
        choice = journey_choice(request.query_params.get("by"), request.query_params.get("periods"))
        if isinstance(choice, str):
            return self.problem(400, choice, session)
        kind, count = choice
        with self.db.read() as conn:
            built = build_journey_page(conn, config=self.config, kind=kind, count=count, end=self.clock.now())
        tables = [t for t in (built.stages, built.index) if t is not None]
        return self.page(
            request, "journey.html", session, tables, built=built, by=kind, periods=count,
            jwords=journey_words, download_stem=f"journey-{kind}",
        )  # fmt: skip

    @_guarded
    def outcomes(self, request: Request) -> Response:
        """Outcomes by score band over a year of answers (or `window`), and churn per month."""
        from bot.dashboard.outcome_views import build_outcomes_page
        from bot.texts import outcomes as outcome_texts

        session = self.session(request, "viewer")
        given = "window" in request.query_params
        window_text, window = self.window(request, session) if given else ("365d", timedelta(days=365))
        with self.db.read() as conn:
            built = build_outcomes_page(conn, config=self.config, end=self.clock.now(), cohort=window)
        return self.page(
            request, "outcomes.html", session, built.tables, built=built, window=window_text,
            outcome_texts=outcome_texts, timezone=self.config.dashboard.timezone, download_stem="outcomes",
        )  # fmt: skip

    @_guarded
    def alerts(self, request: Request) -> Response:
        session = self.session(request, "manager")
        window_text, window = self.window(request, session)
        state = request.query_params.get("state") or None
        if state not in (None, "open", "claimed", "resolved"):
            state = None
        with self.db.read() as conn:
            table = views.build_alerts(conn, end=self.clock.now(), window=window, state=state)
        return self.page(
            request, "alerts.html", session, [table], table=table, window=window_text, state=state or "",
            download_stem="alerts",
        )  # fmt: skip

    @_guarded
    def follow_up(
        self,
        request: Request,
        send_id: str,
        action: str,
        csrf: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
    ) -> Response:
        session = self.session(request, "manager")
        self.check_post(request, csrf, session.csrf)
        if action not in ("claim", "resolve"):
            return self.problem(404, words.NO_ALERT, session)
        with self.db.read() as conn:
            known = stored.alert_exists(conn, send_id)
        if not known:
            return self.problem(404, words.NO_ALERT, session)
        if action == "claim":
            self.follow_ups.claim(send_id, session.email)
        else:
            self.follow_ups.resolve(send_id, session.email)
        target = back if back.startswith("/dashboard/alerts") and "//" not in back else "/dashboard/alerts"
        return RedirectResponse(target, status_code=303)

    @_guarded
    def contact(self, request: Request, contact_id: str) -> Response:
        session = self.session(request, "manager")
        with self.db.read() as conn:
            built = views.build_contact_page(conn, contact_id)
        if built is None:
            return self.problem(404, words.NO_CONTACT, session)
        return self.page(
            request, "contact.html", session, [built.moments], built=built, window="", download_stem="contact"
        )

    @_guarded
    def people(self, request: Request) -> Response:
        session = self.session(request, "admin")
        return self.render("people.html", session=session, users=self.config.dashboard.users, query={})


GROUPABLE = re.compile(r"^(channel|survey|trigger|type|contact\.(locale|timezone)|properties(\.[\w-]+)+)$")


def _group_problem(path: str) -> str | None:
    """What is wrong with a breakdown path, as `surveybot stats --group-by` says it."""
    problem = path_problem(path, allow=("channel", "survey", "trigger"))
    if problem is None and not GROUPABLE.match(path):
        problem = words.not_groupable(path)
    return problem


def _scale(metric: str) -> tuple[int, int]:
    low, high = METRICS[metric].scale
    return low, high + 1
