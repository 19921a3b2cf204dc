"""Runs Debian's docker-registry on 127.0.0.1:<free port> with the busybox image of the e2e tests
(tests/e2e/registry.py: built from Debian's busybox-static) pushed to it, for bench/agent.sh.

Usage: agent_registry.py REF_FILE
Writes the image reference to REF_FILE once the push is done, then serves until SIGTERM/SIGINT,
when it stops the registry and removes its temp dir."""
import os
import signal
import time
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from registry import Registry, push_busybox_image  # noqa: E402


def main():
    ref_file = sys.argv[1]
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    reg = Registry()
    try:
        reg.start()
        img = push_busybox_image(reg, repo="bench/busybox", tag="bench")
        tmp = ref_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(img["ref"] + "\n")
        os.rename(tmp, ref_file)
        while not stop:
            time.sleep(0.2)
    finally:
        reg.stop()


if __name__ == "__main__":
    main()
