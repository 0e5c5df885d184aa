"""A virtual meter for sites without one: a fixed or scheduled base load."""

from __future__ import annotations

from adapters.clock import Clock, utc_now
from adapters.modbus.config import MeterSettings
from adapters.modbus.failures import ReadFailure
from adapters.modbus.profile import LoadProfile, load_profile
from ems.events import MeterReading


class VirtualMeter:
    """Always valid: the configured base load, with power at the nominal voltage.

    A schedule with timestamps is placed at those times; one with seconds starts when
    the meter is created. Either repeats after its last row.
    """

    def __init__(self, settings: MeterSettings, *, clock: Clock = utc_now) -> None:
        if settings.schedule is not None:
            self._profile = load_profile(settings.schedule, settings.nominal_voltage_v)
        elif settings.current_a is not None:
            self._profile = LoadProfile.constant(settings.current_a)
        else:
            raise ValueError(f"virtual meter {settings.id} needs current_a or a schedule")
        self.meter_id = settings.id
        self.last_failure: ReadFailure | None = None
        """Always None: the configured load is always there."""
        self._voltage_v = settings.nominal_voltage_v
        self._clock = clock
        self._start = self._profile.start or clock()

    async def read(self) -> MeterReading:
        at = self._clock()
        current = self._profile.current_at((at - self._start).total_seconds())
        power = (
            current[0] * self._voltage_v,
            current[1] * self._voltage_v,
            current[2] * self._voltage_v,
        )
        return MeterReading(
            meter_id=self.meter_id,
            at=at,
            valid=True,
            current_a=current,
            power_w=power,
            total_power_w=sum(power),
        )

    async def close(self) -> None:
        """Nothing to release."""
