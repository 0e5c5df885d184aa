"""Click parameter types shared by the subcommands."""

from __future__ import annotations

from datetime import UTC, datetime

import click


class Moment(click.ParamType[datetime]):
    """An ISO 8601 time with a UTC offset, as an aware UTC datetime."""

    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time such as 2025-03-03T09:00:00Z", param, ctx)
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.fail(f"{value!r} needs a UTC offset such as Z or +01:00", param, ctx)
        return moment.astimezone(UTC)
