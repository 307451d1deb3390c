"""Build step: translate a family's generated .pyx to C once for every kernel set.

Usage: python cythonize.py CYTHON OUTPUT.c INPUT.pyx MODULE [CYTHON ARGUMENTS...]

The C file is compiled once per kernel set, each compilation renaming the init
function (PyInit_<family> -> PyInit_<family><suffix>, by -D in meson.build). Cython's
init code also registers the module in sys.modules under the name it was translated
with; here that name becomes the macro FL_MODULE_NAME (default: MODULE), which each
compilation sets to its own module's name. Without it, the first kernel set imported
would also be registered as, and so be returned for, every other set's name.
"""

import re
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    cython, output, source, module, *args = argv
    subprocess.run([cython, *args, "--module-name", module, source, "-o", output], check=True)
    text = Path(output).read_text()
    literal = '"' + module + '"'
    pattern = re.compile(r"(PyDict_(?:Get|Set)ItemString\(modules, )" + re.escape(literal))
    text, count = pattern.subn(r"\1FL_MODULE_NAME", text)
    if count != 2:
        sys.exit(f"cythonize.py: expected 2 sys.modules registrations of {module} in "
                 f"{output}, found {count}: Cython's init code changed")
    header = f"#ifndef FL_MODULE_NAME\n#define FL_MODULE_NAME {literal}\n#endif\n"
    Path(output).write_text(header + text)


if __name__ == "__main__":
    main(sys.argv[1:])
