"""The company's look on what a customer sees: `brand: {name, logo_url, accent_color, support_url}`.

The accent colour fills the score buttons and the submit button, under white text, so it must
reach WCAG 2.x AA contrast for normal text (4.5:1) against white. The formula is WCAG's own
(relative luminance of sRGB, then (L1 + 0.05) / (L2 + 0.05)), a few lines written out here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import field_validator

from triggers.settings import Section

DEFAULT_ACCENT = "#2563eb"
AA_NORMAL_TEXT = 4.5
_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
WHITE = "#ffffff"
# The logo's origin goes into the pages' Content-Security-Policy: a plain host[:port] only.
_HOST = re.compile(r"^[A-Za-z0-9.-]+(?::\d{1,5})?$")


class BrandConfig(Section):
    name: str | None = None
    logo_url: str | None = None
    accent_color: str = DEFAULT_ACCENT
    support_url: str | None = None

    @field_validator("name")
    @classmethod
    def _one_line(cls, name: str | None) -> str | None:
        if name is not None and (not name.strip() or re.search(r"[\x00-\x1f\x7f]", name) or len(name) > 80):
            raise ValueError(f"{name!r} is not a company name: one line of at most 80 characters")
        return name.strip() if name else None

    @field_validator("logo_url", "support_url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if problem := url_problem(url):
            raise ValueError(problem)
        return url

    @field_validator("accent_color")
    @classmethod
    def _readable_under_white_text(cls, colour: str) -> str:
        if not _HEX_COLOUR.match(colour):
            raise ValueError(f"{colour!r} is not a colour like #1d4ed8 (# and six hex digits)")
        ratio = contrast_ratio(colour, WHITE)
        if ratio < AA_NORMAL_TEXT:
            raise ValueError(
                f"{colour} under white text has a contrast of {ratio:.2f}:1, below WCAG AA's "
                f"{AA_NORMAL_TEXT}:1 for normal text: choose a darker shade"
            )
        return _six_digits(colour)

    @property
    def logo_origin(self) -> str | None:
        """Where the logo is served from, for the pages' Content-Security-Policy."""
        if not self.logo_url:
            return None
        parts = urlsplit(self.logo_url)
        return f"{parts.scheme}://{parts.netloc}"


def url_problem(url: str) -> str | None:
    """None for an absolute https URL (http for a local host) a browser can open, else why not."""
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1")
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
        return f"{url!r} is not an absolute https URL like https://example.com/help"
    if re.search(r"[\s\x00-\x1f\x7f\"'<>\\\\]", url):
        return f"{url!r} holds spaces, quotes or angle brackets: percent-encode them"
    if not _HOST.match(parts.netloc):
        return f"{url!r} does not name a host like cdn.example.com (no user, no odd characters)"
    return None


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance: each sRGB channel linearised, then weighted."""
    digits = _six_digits(colour)[1:]
    red, green, blue = (_linear(int(digits[i : i + 2], 16) / 255) for i in (0, 2, 4))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _six_digits(colour: str) -> str:
    digits = colour.lstrip("#").lower()
    return "#" + ("".join(d * 2 for d in digits) if len(digits) == 3 else digits)
