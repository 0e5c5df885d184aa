"""The `ocpp` package's `on` decorator, typed so handlers keep their signatures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from ocpp import routing

Handler = TypeVar("Handler", bound=Callable[..., Any])


def on(action: str) -> Callable[[Handler], Handler]:
    return cast(Callable[[Handler], Handler], routing.on(action))
