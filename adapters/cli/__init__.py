"""The `ems` command line.

The controller's matrices are small: multi-threaded BLAS gains nothing on them and, on a
busy machine, waking its threads stalls a control step by milliseconds. Every `ems`
process therefore runs numpy's BLAS on one thread unless the environment says otherwise;
this must happen before numpy is first imported, hence here.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
