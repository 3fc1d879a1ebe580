"""The web pages behind the links in survey emails: rate with a comment, and unsubscribe.

May use: texts (templates), responses (through a protocol), runtime. The dashboard will stand beside it.
"""
