"""Session documents shaped as ACN-Data serves them, for the import tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

DAY = datetime(2019, 5, 6, tzinfo=UTC)


def http_date(at: datetime) -> str:
    """RFC 1123, as ACN-Data writes its times."""
    return format_datetime(at, usegmt=True)


def document(
    session_id: str,
    space: str,
    arrival_h: float,
    departure_h: float,
    delivered_kwh: float,
    requested_kwh: tuple[float, ...] = (),
) -> dict[str, Any]:
    arrival = DAY + timedelta(hours=arrival_h)
    departure = DAY + timedelta(hours=departure_h)
    inputs = [
        {
            "WhPerMile": 300,
            "kWhRequested": kwh,
            "milesRequested": round(kwh / 0.3),
            "minutesAvailable": round((departure_h - arrival_h) * 60),
            "modifiedAt": http_date(arrival + timedelta(minutes=1 + n)),
            "paymentRequired": True,
            "requestedDeparture": http_date(departure),
            "userID": 4321,
        }
        for n, kwh in enumerate(requested_kwh)
    ]
    return {
        "_id": f"5bc90cb9f9af8b0d7fe7{session_id[-4:]:0>4}",
        "clusterID": "39",
        "connectionTime": http_date(arrival),
        "disconnectTime": http_date(departure),
        "doneChargingTime": http_date(arrival + timedelta(hours=1)),
        "kWhDelivered": delivered_kwh,
        "sessionID": session_id,
        "siteID": "2",
        "spaceID": space,
        "stationID": f"2-39-{space[-3:]}",
        "timezone": "America/Los_Angeles",
        "userID": "4321" if inputs else None,
        "userInputs": inputs or None,
    }


def day_of_sessions() -> list[dict[str, Any]]:
    """Four spaces over a day: two drivers who used the app, one space used twice, one
    session overlapping another on its space, one that never stayed."""
    return [
        document("2_39_78_362_a", "CA-496", 8.0, 17.0, 12.5, (10.0, 14.0)),
        document("2_39_95_27_b", "CA-319", 8.5, 12.0, 7.9),
        document("2_39_95_27_c", "CA-319", 13.0, 18.0, 5.3, (6.0,)),
        document("2_39_79_380_d", "CA-489", 9.0, 16.0, 20.1),
        document("2_39_79_380_e", "CA-489", 15.0, 19.0, 4.0),
        document("2_39_79_379_f", "CA-327", 10.0, 10.0, 0.0),
    ]
