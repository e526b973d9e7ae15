"""Drives the `cybereason` client from PyPI against a running listener (run by
test_cybereason.py in its own virtualenv): logs in, reads every sensor (its pages) and the
sensor actions, logs out, then tries a wrong password. Prints what it saw as JSON.

    python cybereason_client_check.py BASE_URL USERNAME PASSWORD
"""

import asyncio
import json
import sys

from cybereason import Cybereason
from cybereason.exceptions import AuthenticationError


def client(base: str, username: str, password: str) -> Cybereason:
    c = Cybereason("workbench", username, password)
    # The client builds https://<tenant>.cybereason.net; point it at the listener instead.
    c.session.base_url = base
    return c


async def main(base: str, username: str, password: str) -> dict:
    async with client(base, username, password) as c:
        sensors = [s async for s in c.get_sensors()]
        actions = await c.get_sensors_actions()
    bad = client(base, username, password + "-wrong")
    try:
        await bad.login()
        bad_login = "logged in"
    except AuthenticationError:
        bad_login = "AuthenticationError"
    return {"sensors": sensors, "actions": actions, "bad_login": bad_login}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4]))))
