"""crmn_legacy.runtime -- how our functions are compiled and the process settings they run with.

:mod:`.compile` (:func:`~crmn_legacy.runtime.compile.function`, our default
mode and the registration of our rewrites), :mod:`.graph_cache` (the
rewritten-graph cache), :mod:`.configuration` (:func:`crmn_legacy.configure`
and the compile-time settings), :mod:`.pytensor_flags` (the PyTensor flags we
want, computed) and :mod:`.malloc` (glibc allocator thresholds).  Importing
any of them changes no global setting.
"""
