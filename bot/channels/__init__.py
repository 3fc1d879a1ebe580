"""Ways a survey reaches a contact. Each provider SDK is imported by its own module only."""
