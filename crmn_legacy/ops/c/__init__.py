"""crmn_legacy.ops.c -- how our COps get their C code.

:mod:`.templates` loads the sources in ``src/`` (shared headers and one
``*_template.c`` per Op family, instantiated for float and double) and gives
the build settings (OpenMP, the ``scipy-openblas32`` wheel) as mixins;
:mod:`.conv_mixin` is the C side shared by the three convolution Ops.
"""
