import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from kos import KosServer, Kubectl  # noqa: E402


@pytest.fixture
def server():
    s = KosServer()
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


@pytest.fixture(scope="module")
def shared_server():
    """One server for a module's read-mostly tests (each test uses its own namespace)."""
    s = KosServer()
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


@pytest.fixture
def kubectl_factory():
    made = []

    def make(server, version):
        k = Kubectl(server, version)
        made.append(k)
        return k

    yield make
    for k in made:
        k.cleanup()
