"""moto_server with the project's fidelity fixes and extensions: what scripts/emulator.py runs (a script,
like moto_server). The fixes live in scripts/moto_ext/ (one file per service), listed in README under
"Emulator extensions".
"""
from __future__ import annotations

import sys

import moto_ext
from moto.server import main

moto_ext.apply_all()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
