"""Customer data: `surveybot forget` (erasure) and the daily retention purge.

May use: storage, triggers, runtime.
"""
