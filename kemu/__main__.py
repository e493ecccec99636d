import sys

from kemu.client import main

sys.exit(main())
