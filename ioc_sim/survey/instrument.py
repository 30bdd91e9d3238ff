"""The survey instrument: the constructs it measures and the statements that measure them.

The instrument lives in ``ioc_sim/data/survey.toml``: five-point items for ten
constructs, each item naming its construct and whether it is reversed. An
answer ``a`` in 1..5 scores ``(a - 1) / 4``, or ``(5 - a) / 4`` for a reversed
item, so every item score is on 0-1 with 0.5 neutral.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from ioc_sim.model import maturity as mat
from ioc_sim.spec.files import package_data


@dataclass(frozen=True)
class SurveyConstruct:
    """One construct the survey measures (its key is a maturity construct)."""

    key: str
    name: str
    abbreviation: str
    meaning: str
    state: str | None = None


@dataclass(frozen=True)
class Item:
    """One statement: its id (the CSV column), construct, text and direction."""

    id: str
    construct: str
    text: str
    reversed: bool = False

    def score(self, answer: float) -> float:
        """The 0-1 score of a 1-5 answer."""
        return (5.0 - answer) / 4.0 if self.reversed else (answer - 1.0) / 4.0


@dataclass(frozen=True)
class Instrument:
    """The questionnaire: constructs and items in asking order."""

    title: str
    version: str
    audience: str
    intro: str
    scale: tuple[str, ...]
    constructs: tuple[SurveyConstruct, ...]
    items: tuple[Item, ...]

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in asking order (the answer file's columns)."""
        return tuple(i.id for i in self.items)

    def items_of(self, construct: str) -> tuple[Item, ...]:
        """The items that measure ``construct``, in asking order."""
        return tuple(i for i in self.items if i.construct == construct)

    def construct(self, key: str) -> SurveyConstruct:
        """The construct of that key."""
        return next(c for c in self.constructs if c.key == key)


@lru_cache(maxsize=1)
def load_instrument() -> Instrument:
    """The bundled instrument, checked for consistency with the maturity constructs."""
    text = package_data("survey.toml").read_text("utf-8")
    data = tomllib.loads(text)
    head = data["instrument"]
    constructs = tuple(
        SurveyConstruct(c["key"], c["name"], c["abbreviation"], c["meaning"], c.get("state"))
        for c in data["constructs"]
    )
    items = tuple(
        Item(i["id"], i["construct"], i["text"], bool(i.get("reversed", False)))
        for i in data["items"]
    )
    keys = [c.key for c in constructs]
    # The instrument and the index must speak of the same ten constructs.
    assert tuple(keys) == mat.CONSTRUCTS, "survey constructs differ from maturity.CONSTRUCTS"
    assert len({i.id for i in items}) == len(items), "duplicate item id"
    assert all(i.construct in keys for i in items), "item of an unknown construct"
    return Instrument(
        head["title"],
        str(head["version"]),
        head["audience"],
        head["intro"].strip(),
        tuple(head["scale"]),
        constructs,
        items,
    )
