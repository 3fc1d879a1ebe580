"""The SMS conversation: Twilio's webhooks, reading a reply, keywords, re-prompts, previews.

May use: channels (the Twilio module), responses, texts, storage, runtime, outbound.
"""
