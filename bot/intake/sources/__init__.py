"""Vendor sources: `POST /v1/sources/<name>` checks the vendor's signature, turns its payload
into our events and sends them down the events API's own path (one module per kind).

May use: triggers, runtime, texts, and the intake's own batcher; python-jsonpath in webhook.py only.
"""
