"""Build step: expand a family's Cython template with the shared loop templates.

Usage: python generate.py OUTPUT.pyx FAMILY.pyx.tp [SHARED.tp ...]

The family template (its per-element functions and the list of loss names) is
followed by each shared template, and the whole is expanded with Cython's Tempita.
"""

import sys
from pathlib import Path

from Cython import Tempita


def main(argv: list[str]) -> None:
    output, *templates = argv
    text = "\n".join(Path(path).read_text() for path in templates)
    Path(output).write_text(Tempita.sub(text))


if __name__ == "__main__":
    main(sys.argv[1:])
