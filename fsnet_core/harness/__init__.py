"""The harness that runs the course notebooks for ``fsnet run-all``, ``make run`` and CI.

``notebooks`` (execute them with papermill in a kernel of this interpreter;
the shape every notebook shares: its Colab badge and set-up cell),
``openmp`` (how the kernels' OpenMP threads wait, from the machine's load),
``budgets`` (how long the course may take, and the timing table). A
notebook never imports this package: only ``cli`` and the tests do.
"""

from .budgets import (
    BUDGETS_S,
    COURSE_BUDGET_S,
    QUICKSTART_BUDGET_S,
    timing_table,
)
from .notebooks import (
    BUILD_DIR,
    COLAB_URL,
    KERNEL_NAME,
    NOTEBOOK_DIR,
    REPO_URL,
    SETUP_CELL,
    NotebookFailed,
    NotebookRun,
    colab_badge,
    ensure_kernel,
    execute_notebook,
    find_notebooks,
    kernel_wait_policy,
    run_all,
    select_notebooks,
)
from .openmp import (
    BUSY_CORES,
    POLICY_ENV,
    choose_wait_policy,
    others_cpu_use,
)

__all__ = [
    "BUDGETS_S",
    "BUILD_DIR",
    "BUSY_CORES",
    "COLAB_URL",
    "COURSE_BUDGET_S",
    "KERNEL_NAME",
    "NOTEBOOK_DIR",
    "NotebookFailed",
    "NotebookRun",
    "POLICY_ENV",
    "QUICKSTART_BUDGET_S",
    "REPO_URL",
    "SETUP_CELL",
    "choose_wait_policy",
    "colab_badge",
    "ensure_kernel",
    "execute_notebook",
    "find_notebooks",
    "kernel_wait_policy",
    "others_cpu_use",
    "run_all",
    "select_notebooks",
    "timing_table",
]
