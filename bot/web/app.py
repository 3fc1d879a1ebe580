"""The ASGI app: `create_web_app(services)` mounts every route on one FastAPI instance."""

from __future__ import annotations

from fastapi import FastAPI

from bot.app import Services
from bot.web.events import events_router
from bot.web.ratings import page_templates, rating_routes


def create_web_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="surveybot",
        version="0.1.0",
        description="Touchpoint events in; CSAT, CES and NPS surveys out.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services

    @app.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(events_router(services))
    app.include_router(
        rating_routes(services.links, services.responses, page_templates(), clock=services.clock),
        tags=["ratings"],
    )
    if services.slack and services.config.slack.signing_secret:  # never an unsigned endpoint
        from bot.slack.app import slack_router

        app.include_router(slack_router(services.slack))
    return app
