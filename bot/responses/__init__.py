"""Recording answers, whichever way they come (rating page, SMS reply), and telling listeners.

May use: storage, triggers, runtime, outbound (its messages, in the same transaction). Pages and
SMS hand answers in; Slack alerts listen.
May use: storage, triggers, runtime, texts (the page's question in the send's
language). Pages and SMS hand answers in; Slack alerts listen.
"""
