"""The ASGI app: `create_web_app(services)` mounts every route on one FastAPI instance."""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException

from bot.app import Services
from bot.exports.feed import responses_router
from bot.intake.batcher import IngestQueue
from bot.intake.http import events_router
from bot.intake.sources.http import sources_router
from bot.pages.ratings import page_templates, rating_routes
from bot.sms.webhooks import twilio_routes
from bot.texts import messages
from bot.web.auth import ApiKeys
from bot.web.docs import install_docs
from bot.web.limits import BodyLimit
from bot.web.schemas import install_openapi


def scheduler_runs(services: Services) -> bool:
    return services.scheduler is not None and services.scheduler.running


def create_web_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="surveybot",
        version="0.1.0",
        description="Touchpoint events in; CSAT, CES and NPS surveys out.",
        docs_url=None,
        redoc_url=None,
        # Starlette's redirect of `/path/` to `/path` builds its Location from the Host header:
        # anyone could make our domain redirect to theirs. Our links never end in a slash.
        redirect_slashes=False,
    )
    app.state.services = services
    server = services.config.server
    limit = server.max_body_bytes
    app.add_middleware(
        BodyLimit,
        by_prefix={"/v1/events": limit, "/v1/sources/": limit},
        timeout=server.body_timeout.total_seconds(),
    )

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        """Routing's own answers (no such path, a method the path does not take) and the body
        limits' (413, 408) in the shape of every other error: `{"error": "..."}`."""
        if exc.status_code == 405:
            error = messages.method_not_allowed(request.method, request.url.path, exc.headers or {})
        elif exc.status_code == 404:
            error = messages.no_such_path(request.url.path)
        else:
            error = str(exc.detail)
        return Response(
            orjson.dumps({"error": error}), status_code=exc.status_code, headers=exc.headers,
            media_type="application/json",
        )  # fmt: skip

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: the database answers and the scheduler runs",
        responses={503: {"description": "Not ready: the database or the scheduler is down"}},
    )
    def readyz() -> Response:
        checks = {"database": services.db.is_up(), "scheduler": scheduler_runs(services)}
        ready = all(checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            **{k: "ok" if v else "down" for k, v in checks.items()},
        }
        return Response(orjson.dumps(body), status_code=200 if ready else 503, media_type="application/json")

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics of this process",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def metrics() -> Response:
        return Response(services.telemetry.render(), media_type=CONTENT_TYPE_LATEST)

    ingest_queue = IngestQueue(services.ingestor)  # one group commit for the API and the sources
    services.closers.append(ingest_queue.close)
    api_keys = ApiKeys(services.config.server)  # one check for every keyed route
    app.include_router(events_router(services.config.server, api_keys, ingest_queue))
    app.include_router(responses_router(services.db, api_keys))
    app.include_router(
        sources_router(services.config, services.clock, services.telemetry, ingest_queue)
    )  # 404 for every name when none is configured
    app.include_router(
        rating_routes(
            services.links,
            services.responses,
            page_templates(),
            clock=services.clock,
            brand=services.config.brand,
        ),
        tags=["ratings"],
    )
    config = services.config
    twilio = twilio_routes(
        services.sms_inbox,
        auth_token=config.channels.sms.auth_token or config.channels.whatsapp.auth_token,
        public_url=config.server.public_url,
    )
    app.include_router(twilio)
    if services.slack and services.config.slack.signing_secret:  # never an unsigned endpoint
        from bot.slack.app import slack_router

        app.include_router(slack_router(services.slack))
    if config.dashboard.users:
        from bot.dashboard.mount import dashboard_router

        app.include_router(dashboard_router(services))
    install_openapi(app)
    install_docs(app)
    return app
