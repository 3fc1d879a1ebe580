"""The fake SMTP server's fixtures, for the email tests."""

from tests.fakes.smtp_server import closed_port, smtp_server, smtp_tls_server

__all__ = ["closed_port", "smtp_server", "smtp_tls_server"]
