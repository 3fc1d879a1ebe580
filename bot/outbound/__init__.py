"""Data out: signed webhooks and the Zendesk write-back, through a durable outbox.

May use: storage, triggers, runtime, texts. Rooms that change data write here in their own
transaction (`OutboxWriter`); the delivery worker sends it.
"""
