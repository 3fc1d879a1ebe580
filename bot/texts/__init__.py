"""Every word a customer or a user sees: messages, SMS replies, digest wording, Jinja templates,
in the customer's language (catalogs in locale/, survey translations) and the company's brand.

May use: triggers (survey settings) only; every other room reads its words from here.
"""
