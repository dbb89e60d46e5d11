"""The harness that runs the course notebooks for ``fsnet run-all``, ``make run`` and CI.

``notebooks`` (execute them with papermill in a kernel of this interpreter;
the shape every notebook shares: its Colab badge and set-up cell),
``openmp`` (how the kernels' OpenMP threads wait, from the machine's load),
``budgets`` (how long the course may take, and the timing table). A
notebook never imports this package: only ``cli`` and the tests do.
"""
