"""``python -m skmdn``: which skmdn is imported, the versions it runs with,
and whether the unrelated package scikit-mdn clashes with it.

Exits with status 1, and says what to do, when something is wrong. It works
even where scikit-mdn has overwritten ``skmdn/__init__.py``, because this
file and ``skmdn/_installation.py`` are still there.
"""

import sys

from skmdn._installation import diagnose


def main() -> int:
    info, problems = diagnose()
    print("\n".join(info))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
