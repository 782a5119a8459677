"""Runs the benchmark's own unit tests (test_*.py beside this file) and ends
with the summary line scripts/test.sh counts: "N passed, M failed", with a
"FAIL - name" line per failure."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py")
result = unittest.TextTestRunner(verbosity=1).run(suite)
bad = result.failures + result.errors
for test, _ in bad:
    print(f"FAIL - {test.id()}")
print(f"{result.testsRun - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad or result.testsRun == 0 else 0)
