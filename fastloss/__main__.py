import sys

from fastloss._cli import main

sys.exit(main())
