"""Make the harness importable from the tests and find the fixtures."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, os.path.join(REPO, "harness"))


def fixture(name):
    with open(os.path.join(FIXTURES, name), errors="replace") as f:
        return f.read()
