"""python -m tuiboard"""

from __future__ import annotations

import sys

from tuiboard.cli import main

sys.exit(main())
