"""The `journey:` and `index:` sections: the customer journey's stages and the weighted CX index.

```yaml
journey:                  # stages in the order customers live them
  - {stage: onboard, surveys: [onboarding_ces]}
  - {stage: support, surveys: [support_csat]}
index:                    # optional; its surveys must be in the journey, shown beside it
  weights: {support_csat: 0.6, onboarding_ces: 0.4}
```

`journey_problems` lists what pydantic cannot see alone, each as `path: what is wrong and what
would be right` (see `bot.config.check_references`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from pydantic import Field

from triggers.settings import Section

WEIGHT_TOLERANCE = 1e-9


class JourneyStage(Section):
    """One stage of `journey:`; each of its surveys is shown on its own row, in this order."""

    stage: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    surveys: list[str] = Field(min_length=1)


class IndexConfig(Section):
    """`index:`: survey -> weight; the weights are at least 0 and sum to 1."""

    weights: dict[str, float] = Field(min_length=1)


def journey_problems(
    journey: Sequence[JourneyStage], index: IndexConfig | None, surveys: Collection[str]
) -> list[str]:
    """Unknown surveys, a stage name or a survey used twice, weights that are not a split of 1,
    and index surveys that no stage shows."""
    problems: list[str] = []
    known = ", ".join(sorted(surveys)) or "none defined"
    stage_of: dict[str, str] = {}
    names: set[str] = set()
    for i, stage in enumerate(journey):
        if stage.stage in names:
            problems.append(f"journey[{i}].stage: {stage.stage!r} is used by another stage; names are unique")
        names.add(stage.stage)
        for j, survey in enumerate(stage.surveys):
            where = f"journey[{i}].surveys[{j}]"
            if survey not in surveys:
                problems.append(f"{where}: {survey!r} is not a survey (known: {known})")
            elif survey in stage_of:
                problems.append(
                    f"{where}: {survey!r} is already in stage {stage_of[survey]!r}; "
                    "a survey belongs to one stage"
                )
            else:
                stage_of[survey] = stage.stage
    if index is not None:
        problems += _index_problems(index, stage_of, surveys, known)
    return problems


def _index_problems(
    index: IndexConfig, stage_of: dict[str, str], surveys: Collection[str], known: str
) -> list[str]:
    problems: list[str] = []
    for survey, weight in index.weights.items():
        where = f"index.weights.{survey}"
        if survey not in surveys:
            problems.append(f"{where}: {survey!r} is not a survey (known: {known})")
        elif survey not in stage_of:
            problems.append(
                f"{where}: {survey!r} is in no journey stage; add it to one so the index is "
                "shown beside its parts"
            )
        if not math.isfinite(weight) or weight <= 0:
            problems.append(f"{where}: {weight:g} is not a weight: give a number above 0, such as 0.25")
    total = math.fsum(index.weights.values())
    if math.isfinite(total) and abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(
            f"index.weights: the weights sum to {total:.12g}; they must sum to 1 (such as 0.4 + 0.6)"
        )
    return problems
