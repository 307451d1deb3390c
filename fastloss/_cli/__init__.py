"""The command line, python -m fastloss: demo, bench, config. Nothing imports it."""
