"""Every word a customer or a user sees: messages, SMS replies, digest wording, Jinja templates.

May use: triggers (survey settings) only; every other room reads its words from here.
"""
