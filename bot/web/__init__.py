"""The HTTP side: routes only translate requests into calls on the core and back."""
