"""The dashboard for CX managers at `/dashboard`: sign-in by one-time link, signed sessions, and
server-rendered pages over the metrics room's report, the alerts and the `explain` timeline.

May use: metrics (the one report), slack.alerts (claim and resolve), storage, texts, runtime.
"""
