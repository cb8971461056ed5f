import os
import socket

import uvicorn
from aiohttp import web
from flask import Flask

app = Flask(__name__)
application = web.Application()

# ruleid: python-django-debug-true
DEBUG = True
# ok: python-django-debug-true
TEMPLATE_DEBUG = os.environ.get("DEBUG") == "1"

if os.environ.get("DEV"):
    # ok: python-django-debug-true
    DEBUG = True


def configure() -> None:
    # ok: python-django-debug-true
    DEBUG = True
    return DEBUG


def serve() -> None:
    # ruleid: python-flask-debug-enabled
    app.run(debug=True)
    # ruleid: python-flask-debug-enabled
    app.debug = True
    # ruleid: python-flask-debug-enabled
    app.config["DEBUG"] = True
    # ruleid: python-flask-debug-enabled
    app.config.update(DEBUG=True, TESTING=False)
    # ok: python-flask-debug-enabled
    app.config.update(DEBUG=False)
    # ok: python-flask-debug-enabled
    app.run(debug=False)
    # ok: python-flask-debug-enabled
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")


def listen() -> None:
    # ruleid: python-bind-all-interfaces
    app.run(host="0.0.0.0", port=8080)
    # ruleid: python-bind-all-interfaces
    uvicorn.run("main:app", host="0.0.0.0")
    sock = socket.socket()
    # ruleid: python-bind-all-interfaces
    sock.bind(("0.0.0.0", 9000))
    # ok: python-bind-all-interfaces
    sock.bind(("127.0.0.1", 9000))
    # ok: python-bind-all-interfaces
    app.run(host="127.0.0.1")
    # ruleid: python-bind-all-interfaces
    web.run_app(application, host="0.0.0.0", port=8080)
    # ok: python-bind-all-interfaces
    web.run_app(application, host="127.0.0.1", port=8080)
    # ruleid: python-bind-all-interfaces
    host = os.environ.get("APP_HOST", "0.0.0.0")
    # ruleid: python-bind-all-interfaces
    bind = os.getenv("BIND_ADDRESS") or "0.0.0.0"
    # ok: python-bind-all-interfaces
    local = os.environ.get("HOST", "127.0.0.1")
    # ok: python-bind-all-interfaces
    mask = os.environ.get("NETMASK", "0.0.0.0")
    app.run(host=host or bind or local, port=int(mask or 0))
