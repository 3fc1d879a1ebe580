"""Data out for people and programs: `surveybot export` (CSV or JSON lines, streamed) and the
responses feed `GET /v1/responses`. May use: storage (the rows), config, texts, web.auth.
"""
