"""surveybot: the running service. `bot.app.build_services` is the one composition root."""
