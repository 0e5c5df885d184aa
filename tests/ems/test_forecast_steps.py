from datetime import timedelta

from ems.forecast_steps import ForecastSteps
from optimizer.problem import PowerPeriod
from tests.ems.fakes import T0

H = timedelta(hours=1)


def test_the_import_moves_by_the_load_less_the_pv_from_now_on() -> None:
    load = (PowerPeriod(T0, 1000.0), PowerPeriod(T0 + 2 * H, 3000.0))
    pv = (PowerPeriod(T0 + H, 500.0), PowerPeriod(T0 + 2 * H, 2000.0))
    moved = ForecastSteps.of(load, pv).moved(T0 + H / 2, 100.0)
    # at now: load 1000 W, and the PV's first period's 500 W before it starts
    assert moved == (
        PowerPeriod(T0 + H / 2, 100.0),
        PowerPeriod(T0 + H, 100.0),
        PowerPeriod(T0 + 2 * H, 100.0 + (2000.0 - 1500.0)),
    )


def test_before_every_start_each_forecast_holds_its_first_value() -> None:
    load = (PowerPeriod(T0 + H, 1000.0), PowerPeriod(T0 + H, 4000.0))
    moved = ForecastSteps.of(load, ()).moved(T0, -50.0)
    # of two periods starting together the last listed holds from then on
    assert moved == (PowerPeriod(T0, -50.0), PowerPeriod(T0 + H, -50.0 + 3000.0))


def test_without_forecasts_the_import_is_held() -> None:
    assert ForecastSteps.of((), ()).moved(T0, 700.0) == (PowerPeriod(T0, 700.0),)
