"""Due sends going out: claim, re-check the policy, send through a channel, record the outcome.

May use: channels, texts, storage, triggers, runtime, outbound (`send.failed`, opt-outs).
"""
