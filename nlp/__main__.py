"""``python -m nlp``: the tagger's command line (``nlp.core.cli``), no Django needed."""

import sys

from nlp.core.cli import main

if __name__ == "__main__":
    sys.exit(main())
