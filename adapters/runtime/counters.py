"""Running totals of what the runtime did, and how its control steps fared, for the status
API, the metrics and /api/health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from adapters.http.snapshot import Counters
from ems.events import Event
from ems.solver_port import AllocationSolver
from ems.view import ControllerView
from optimizer.allocation import Allocation, SolveStatus
from optimizer.problem import Problem

ERRORS_QUIET_S = 300.0
"""Step errors count as stopped once a proper step ran and none came for this long. An
exception on every sample of one charger (once a minute, say) must give one error line
while it lasts, not an error and a recovery line each time."""


@dataclass(frozen=True)
class ControllerError:
    """An exception in the controller while it handled `event`.

    `by_solver`: raised by the allocation solver. The controller catches those and holds
    the sessions at their fallbacks, so only the runtime's `WatchedSolver` sees them."""

    event: Event
    error: BaseException
    by_solver: bool = False

    def describe(self) -> str:
        where = (
            "the allocation solver"
            if self.by_solver
            else f"the controller on {type(self.event).__name__}"
        )
        return f"{where} raised {type(self.error).__name__}: {self.error}"


class WatchedSolver:
    """The allocation solver, with the exceptions it raises noted on their way out.

    Called from the controller's worker thread only; `take` (same thread) hands over what
    was noted since the last call."""

    def __init__(self, inner: AllocationSolver) -> None:
        self._inner = inner
        self._raised: list[BaseException] = []

    def solve(self, problem: Problem) -> Allocation:
        try:
            return self._inner.solve(problem)
        except Exception as error:
            self._raised.append(error)
            raise

    def take(self) -> list[BaseException]:
        raised, self._raised = self._raised, []
        return raised


class ErrorRun(Enum):
    """How a batch of events changed the run of step errors (for one log line each)."""

    STARTED = "started"
    STOPPED = "stopped"


@dataclass
class RuntimeCounters:
    """Mutated on the event loop only; `snapshot` gives the frozen copy the server shows."""

    profiles_sent: int = 0
    profiles_rejected: int = 0
    """Profiles sent that the charger did not accept (refused, error, timeout, gone)."""
    meter_errors: int = 0
    """Failed meter reads, of every meter."""
    solves: int = 0
    solve_seconds_total: float = 0.0
    step_errors: int = 0
    """Exceptions in the controller: raised out of `Controller.handle`, or raised by the
    allocation solver (which the controller catches, holding sessions at their
    fallbacks)."""
    fallback_steps: int = 0
    """Control steps whose allocation is the optimizer's safe fallback (solve status not
    optimal). A step with no session to steer solves nothing and is not one."""
    started_at: datetime | None = None
    """When the controller started taking events."""
    last_proper_step_at: datetime | None = None
    """The last control step that ran without an exception and, if it solved, solved to
    optimality (the controller's time of the step)."""
    last_step_fault: str | None = None
    """Why the last control step was not proper; None when it was."""
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_fallback_status: str | None = None
    last_fallback_at: datetime | None = None
    unproven_since: dict[str, datetime] = field(default_factory=dict)
    """Connectors counted at their hardware maximum, each since when without a break."""
    erroring: bool = False
    """In a run of step errors (see `ERRORS_QUIET_S`)."""

    def start(self, now: datetime, view: ControllerView) -> None:
        self.started_at = now
        self._track_unproven(view, now)

    def record(
        self,
        before: ControllerView,
        after: ControllerView,
        errors: list[ControllerError],
        now: datetime,
    ) -> ErrorRun | None:
        """Count one batch of events the controller handled: `before` and `after` are
        its views around it, `errors` the exceptions on the way. Returns the change to
        the run of step errors, if any."""
        if self.started_at is None:
            self.started_at = now
        self._track_unproven(after, now)
        self.step_errors += len(errors)
        if errors:
            self.last_error = errors[-1].describe()
            self.last_error_at = now
        stepped = after.at is not None and after.at != before.at
        if stepped:
            self._record_step(after, [e for e in errors if e.by_solver])
        if errors and not self.erroring:
            self.erroring = True
            return ErrorRun.STARTED
        quiet = self.last_error_at is None or (
            (now - self.last_error_at).total_seconds() >= ERRORS_QUIET_S
        )
        if self.erroring and not errors and quiet and self._proper_since_error():
            self.erroring = False
            return ErrorRun.STOPPED
        return None

    def _record_step(self, view: ControllerView, solver_errors: list[ControllerError]) -> None:
        status = view.solve_status
        if solver_errors:
            self.last_step_fault = (
                f"{solver_errors[-1].describe()}; sessions held at their fallbacks"
            )
        elif status is not None and status != SolveStatus.OPTIMAL.value:
            self.fallback_steps += 1
            self.last_fallback_status = status
            self.last_fallback_at = view.at
            self.last_step_fault = f"the optimizer used its safe fallback ({status})"
        else:
            self.last_step_fault = None
            self.last_proper_step_at = view.at

    def _proper_since_error(self) -> bool:
        proper, error = self.last_proper_step_at, self.last_error_at
        return proper is not None and (error is None or proper >= error)

    def _track_unproven(self, view: ControllerView, now: datetime) -> None:
        unproven = view.unproven
        for key in list(self.unproven_since):
            if key not in unproven:
                del self.unproven_since[key]
        for key in unproven:
            self.unproven_since.setdefault(key, now)

    def snapshot(self) -> Counters:
        return Counters(
            profiles_sent=self.profiles_sent,
            profiles_rejected=self.profiles_rejected,
            meter_errors=self.meter_errors,
            solves=self.solves,
            solve_seconds_total=self.solve_seconds_total,
            step_errors=self.step_errors,
            fallback_steps=self.fallback_steps,
        )
