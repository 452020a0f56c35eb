"""The load benchmark's viewers under Locust (headless; started by bench/load_bench.py).

Reads the catalog to pick from and the viewers' accounts from AURA_LOAD_PLAN (JSON: catalog,
emails) and writes every viewer's ledger to AURA_LOAD_LEDGERS when Locust quits. The viewers'
behaviour is bench/load_client.py's, shared with the smoke test.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading

from locust import HttpUser, between, events, task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from load_client import Catalog, Viewer

with open(os.environ["AURA_LOAD_PLAN"]) as fh:
    PLAN = json.load(fh)
CATALOG = Catalog.from_json(PLAN["catalog"])
EMAILS = itertools.cycle(PLAN["emails"])
VIEWERS: list[Viewer] = []
_LOCK = threading.Lock()


class LocustHttp:
    """load_client's Http over Locust's HttpSession (its stats see every request by name)."""

    def __init__(self, client) -> None:
        self.client = client

    def send(self, method: str, path: str, name: str, **kwargs):
        kwargs.setdefault("timeout", 30)
        return self.client.request(method, path, name=name, **kwargs)

    def cookie(self, name: str) -> str | None:
        return self.client.cookies.get(name)


class AuraViewer(HttpUser):
    wait_time = between(0.3, 1.2)

    def on_start(self) -> None:
        with _LOCK:
            email = next(EMAILS)
        self.viewer = Viewer(LocustHttp(self.client), email, CATALOG)
        VIEWERS.append(self.viewer)
        self.signed_in = self.viewer.sign_in()

    @task
    def act(self) -> None:
        if not self.signed_in:
            self.signed_in = self.viewer.sign_in()
            return
        self.viewer.step()


@events.quitting.add_listener
def write_ledgers(environment, **_kwargs) -> None:
    with open(os.environ["AURA_LOAD_LEDGERS"], "w") as fh:
        json.dump([viewer.ledger.to_json() for viewer in VIEWERS], fh)
