"""Entry point for `python -m seqlab`."""

import sys

from seqlab.cli.main import main

sys.exit(main())
