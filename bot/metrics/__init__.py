"""The one metrics report that the CLI, Slack and the dashboard read: statistics, report, chart.

May use: storage (the aggregates in SQL), texts, triggers. Knows nothing of Slack or the terminal.
"""
