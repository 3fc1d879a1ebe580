"""The process's plumbing: the clock, logs, Prometheus telemetry and the background scheduler.

May use: the standard library and its one SDK each (APScheduler in scheduler.py). Knows no survey.
"""
