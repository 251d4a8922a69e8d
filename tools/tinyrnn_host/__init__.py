"""tinyrnn on the host: the NumPy integer mirror, the float64 reference, weights and
PyTorch interop, the board plumbing (MicroPython VM, virtual board, deploy) and reports.

    mirror     Q8.8 integer mirror of lib/tinyrnn, bit-exact, vectorised (NumPy)
    reference  float64 cells, model and training on PyTorch's equations (NumPy)
    interop    weights files, PyTorch state_dicts, host training
    board      MicroPython runners (VM, virtual board), deploy with mpremote, mip manifest
    reports    bench, sizes, quantisation error, activation tables, examples, the demo
    cli        the `tinyrnn` command

The board library itself is `tinyrnn` (lib/tinyrnn), not this package: see paths.board_lib().
"""
__version__ = "0.1.0"
