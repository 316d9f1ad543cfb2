"""Entry point for `python -m seqlab`."""

import sys

from seqlab.cli import main

sys.exit(main())
