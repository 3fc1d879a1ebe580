"""Due sends and their reminders going out: claim, re-check, send through a channel, record.

May use: channels, texts, storage, triggers, runtime, outbound (`send.failed`, opt-outs).
"""
