"""Edits of a raw access model for tests: find an entry, and a named, described change."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from infra.errors import ModelError
from infra.model.access import parse_model


def role_of(data: dict, name: str) -> dict:
    return next(r for r in data["roles"] if r["name"] == name)


def secret_of(data: dict, key: str) -> dict:
    return next(s for s in data["secrets"] if f"{s['vendor']}/{s['purpose']}" == key)


def route_of(data: dict, label: str) -> dict:
    """The raw route `METHOD /path`."""
    return next(r for r in data["routes"] if f"{r['method']} {r['path']}" == label)


def identity_of(data: dict, name: str) -> dict:
    return next(i for i in data["identities"] if i["name"] == name)


@dataclass(frozen=True)
class ModelChange:
    """A change to the raw model, and the text the refusal must contain."""

    test_id: str
    change: Callable[[dict], None]
    message: str

    def applied_to(self, model_data: dict) -> dict:
        data = copy.deepcopy(model_data)
        self.change(data)
        return data

    def refusal(self, model_data: dict) -> list[str]:
        """The problems the model validation reports for the changed model; it must refuse it."""
        with pytest.raises(ModelError) as raised:
            parse_model(self.applied_to(model_data), "test model")
        return raised.value.problems
