"""The `surveybot` command: argument parsing, tables for people, JSON for programs, and `run`.

May use: every room of bot/ (this is the top floor); nothing imports it but `bot.__main__`.
"""
