"""Why each session of a dry-run charges when it does, in one line a person reads: by its
charging mode, its need and departure, and the money the plan weighed.

- `fast`: its share of what the limits leave, now, whatever now costs;
- `solar` / `min+solar`: from the site's surplus (its minimum always, for `min+solar`);
- `planned` with a need, a departure and prices: its energy goes to the cheapest periods
  before it leaves (the cheapest are named), so it may wait now;
- `planned` without them: like `fast`, since there is nothing to plan against.

Every limit comes first in every mode: the line says what the plan wanted, the connector's
reason what the limits allowed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.planning.money import MoneyPlan
from ems.view import ConnectorView

CHEAPEST_SHOWN = 3
"""At most this many of the cheapest periods are named."""
W_PER_KW = 1000.0


def session_why(
    view: ConnectorView, money: MoneyPlan | None, now: datetime, voltage_v: float
) -> str | None:
    """The line for the session on `view`'s connector; None without a session."""
    if view.transaction_id is None:
        return None
    power_kw = sum(view.allowed_a) * voltage_v / W_PER_KW
    now_text = f"{power_kw:.1f} kW now" if power_kw > 0.0 else "nothing now"
    mode = view.charging_mode
    if mode == "fast":
        return (
            f"fast: takes its share of what the limits leave now, whatever the price ({now_text})"
        )
    if mode in ("solar", "min+solar"):
        source = "only from" if mode == "solar" else "at its minimum always, and on top from"
        return f"{mode}: charges {source} the site's surplus ({_surplus(money)}; {now_text})"
    if view.need_wh is None or view.departure is None:
        missing = "energy need" if view.need_wh is None else "departure"
        return f"planned, but states no {missing}: charges now, fairly shared ({now_text})"
    need = f"needs {view.need_wh / W_PER_KW:.1f} kWh by {_hhmm(view.departure)}"
    if money is None:
        return f"planned: {need}; with no money to weigh it charges now, fairly shared ({now_text})"
    if not money.prices:
        return f"planned: {need}; spread to keep the site's peak low ({now_text})"
    price_now = _price_at(money.prices, now)
    periods = _periods(money.prices, now, view.departure)
    surplus = _surplus_kw(money)
    first = "" if surplus <= 0.0 else f"the site's surplus first ({surplus:.1f} kW now), then "
    if len({price for _, price in periods}) <= 1:
        where = f"{first}the price is flat until then"
    else:
        cheapest = sorted(sorted(periods, key=lambda p: (p[1], p[0]))[:CHEAPEST_SHOWN])
        listed = ", ".join(f"{_hhmm(at)} {price:.4f}" for at, price in cheapest)
        where = f"its energy goes to {first}the cheapest periods before then ({listed})"
    return f"planned: {need}; {where}; now {price_now:.4f} per kWh: {now_text}"


def _surplus(money: MoneyPlan | None) -> str:
    if money is None or not money.base_import:
        return "no surplus known now"
    import_kw = money.base_import[0][1]
    if import_kw >= 0.0:
        return f"no surplus now: the site imports {import_kw:.1f} kW besides the sessions"
    return f"{-import_kw:.1f} kW surplus now"


def _surplus_kw(money: MoneyPlan) -> float:
    """What the site exports now besides the steered sessions (0 while it imports)."""
    return max(-money.base_import[0][1], 0.0) if money.base_import else 0.0


def _price_at(prices: tuple[tuple[datetime, float], ...], moment: datetime) -> float:
    """The step function's price at `moment` (the first also holds before its start)."""
    price = prices[0][1]
    for start, value in prices:
        if start > moment:
            break
        price = value
    return price


def _periods(
    prices: tuple[tuple[datetime, float], ...], now: datetime, departure: datetime
) -> list[tuple[datetime, float]]:
    """The price periods from `now` to `departure`, each from when it starts (or now)."""
    periods = [(max(start, now), price) for start, price in prices if start < departure]
    return [p for i, p in enumerate(periods) if i + 1 == len(periods) or periods[i + 1][0] > now]


def _hhmm(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%H:%M} UTC"
