"""`python -m bot.cli`: the `copbot` command line."""

import sys

from bot.cli import main

sys.exit(main())
