"""Fixtures for the fakes of outside services; each fake lives in its own module here."""

from __future__ import annotations
