"""Events coming in: the events API, `emit`/`import`, group commit, replaying files in `simulate`,
vendor sources.

May use: triggers (the decisions), storage, runtime, texts. Vendors' webhooks come in by `sources/`.
"""
