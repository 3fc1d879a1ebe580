"""The dashboard's routes wired from the running bot's parts (called by `bot.web.app`)."""

from __future__ import annotations

from fastapi import APIRouter

from bot.app import Services
from bot.dashboard.routes import dashboard_routes


def dashboard_router(services: Services) -> APIRouter:
    """Sign-in links go out by the `email` channel; claims go through Slack's alert poster when
    Slack alerts are on, so the Slack message is redrawn."""
    follow_up = services.slack.alerts if services.slack and services.slack.alerts else None
    return dashboard_routes(
        services.config,
        services.db,
        services.clock,
        email=services.channels.get("email"),
        follow_up=follow_up,
    )
