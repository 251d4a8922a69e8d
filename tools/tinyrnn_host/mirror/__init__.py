"""The NumPy integer mirror of lib/tinyrnn: same spec (docs/arithmetic.md),
same names, vectorised over arrays. Built from the spec, not by importing lib/;
what is shared is the generated table constants, read from lib/tinyrnn/_tables.py
as data, and the argument checks: the mirror refuses what the board refuses, with
the board's messages, by calling the board's own validators (check.py), which
compute nothing. Shapes and methods: docs/host-api.md.

Values are int64 arrays holding Q8.8 ints; results equal lib/ bit for bit.
"""
