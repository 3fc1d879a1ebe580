"""Recording answers, whichever way they come (rating page, SMS reply), and telling listeners.

May use: storage, triggers, runtime, outbound (its messages, in the same transaction). Pages and
SMS hand answers in; Slack alerts listen.
"""
