"""The domain and the controller core: site model, events and commands, the control step.

Pure: no sockets, no files, no clock. Time and data are passed in.
"""

from ems.controller import Controller
from ems.solver_port import AllocationSolver
from ems.view import ConnectorView, ControllerView

__all__ = ["AllocationSolver", "ConnectorView", "Controller", "ControllerView"]
