"""Append the licence note of the bundled OpenMP runtime to a repaired wheel's LICENSE.

    python tools/wheel_licence.py WHEEL NOTE_FILE

auditwheel copies libgomp (GPL-3.0-or-later WITH GCC-exception-3.1) into
``fastloss.libs/``; a binary distribution that carries it ships the GCC Runtime
Library Exception with it, as scikit-learn's and NumPy's wheels do. The note is
appended to ``<dist-info>/licenses/LICENSE`` and the wheel's RECORD is rewritten
with the new hash and size. The wheel is rewritten in place; running the script
twice on the same wheel is an error, as is a wheel without a bundled libgomp.
"""

import base64
import hashlib
import sys
import zipfile
from pathlib import Path


def record_entry(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def add_note(wheel_path, note):
    with zipfile.ZipFile(wheel_path) as wheel:
        infos = wheel.infolist()
        contents = {info.filename: wheel.read(info) for info in infos}
    names = list(contents)
    if not any(n.startswith("fastloss.libs/libgomp") for n in names):
        raise SystemExit(f"{wheel_path}: no libgomp in fastloss.libs/ (built without OpenMP?)")
    dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
    licence = f"{dist_info}/licenses/LICENSE"
    record = f"{dist_info}/RECORD"
    if licence not in contents:
        raise SystemExit(f"{wheel_path}: {licence} is missing (pyproject.toml license-files)")
    if b"GCC RUNTIME LIBRARY EXCEPTION" in contents[licence]:
        raise SystemExit(f"{wheel_path}: the licence note is already there")
    contents[licence] = contents[licence].rstrip(b"\n") + b"\n" + note
    lines = [
        record_entry(licence, contents[licence]) if line.startswith(licence + ",") else line
        for line in contents[record].decode().splitlines()
    ]
    contents[record] = ("\n".join(lines) + "\n").encode()

    tmp_path = wheel_path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in infos:  # same order, names, dates and permissions; RECORD stays last
            out.writestr(info, contents[info.filename], compress_type=zipfile.ZIP_DEFLATED)
    tmp_path.replace(wheel_path)


def main(argv):
    if len(argv) != 3:
        raise SystemExit(f"usage: {argv[0]} WHEEL NOTE_FILE")
    wheel_path, note_path = Path(argv[1]), Path(argv[2])
    add_note(wheel_path, note_path.read_bytes())
    print(f"{wheel_path.name}: GCC runtime licence note added to LICENSE")


if __name__ == "__main__":
    main(sys.argv)
