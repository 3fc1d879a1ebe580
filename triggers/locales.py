"""Language tags (BCP 47, RFC 5646) as the config and events give them: checked and spelled
one way (`pt-br` -> `pt-BR`, `zh-hant-tw` -> `zh-Hant-TW`), so a tag is compared as text.

Only the syntax is checked, not the IANA registry: `xx-YY` is well formed. Private-use and
extension subtags are kept as given, in lower case.
"""

from __future__ import annotations

import re

# RFC 5646 section 2.1, without the grandfathered irregular tags (i-klingon and the like).
_LANGTAG = re.compile(
    r"""^(?:
      (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})
      (?:-(?P<script>[a-z]{4}))?
      (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
      (?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)
      (?P<extensions>(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*)
      (?:-x(?:-[a-z0-9]{1,8})+)?
    |x(?:-[a-z0-9]{1,8})+)$""",
    re.VERBOSE,
)


def language_tag_problem(tag: str) -> str | None:
    """None when `tag` is a well-formed BCP 47 language tag, else what is wrong with it."""
    if _LANGTAG.match(tag.lower()):
        return None
    dashed = tag.replace("_", "-")
    hint = f"; write {dashed!r}" if dashed != tag and _LANGTAG.match(dashed.lower()) else ""
    return f"{tag!r} is not a BCP 47 language tag like en, fr-CA or pt-BR{hint}"


def canonical_tag(tag: str) -> str:
    """`tag` in the usual case: language lower, script title, region upper. It must be valid."""
    first, *rest = tag.lower().split("-")
    spelled = [first]
    for index, part in enumerate(rest):
        if len(part) == 1:  # an extension or private use: the rest stays as it is, lower case
            spelled += rest[index:]
            break
        if len(part) == 4 and part.isalpha():
            spelled.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            spelled.append(part.upper())
        else:
            spelled.append(part)
    return "-".join(spelled)
