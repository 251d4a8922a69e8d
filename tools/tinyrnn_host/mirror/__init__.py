"""The NumPy integer mirror of lib/tinyrnn: same spec (docs/arithmetic.md),
same names, vectorised over arrays. Built from the spec, not by importing lib/;
the only thing shared is the generated table constants, read from
lib/tinyrnn/_tables.py as data.

Values are int64 arrays holding Q8.8 ints; results equal lib/ bit for bit.
"""
