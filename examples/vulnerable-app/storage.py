"""Session storage of the example notes service (deliberately vulnerable)."""

import base64
import pickle
import random
import string


def new_session_token() -> str:
    session_token = "".join(random.choice(string.ascii_letters) for _ in range(32))
    return session_token


def load_session(cookie: str) -> dict:
    return pickle.loads(base64.b64decode(cookie))


def save_session(data: dict) -> str:
    return base64.b64encode(pickle.dumps(data)).decode()
