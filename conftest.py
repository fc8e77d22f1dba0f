"""pytest configuration shared by the whole checkout."""

from importlib.util import find_spec

# skmdn/skpro.py imports skpro, an optional dependency that the tested set
# cannot hold (skpro caps pandas below 3.1): its doctests run in the skpro
# environment, `make test-skpro`.
collect_ignore = [] if find_spec("skpro") else ["skmdn/skpro.py"]
