import os

import flask
from flask import Flask, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)
BASE = "/srv/files"


@app.route("/read")
def read():
    name = request.args.get("name")
    # ruleid: python-path-traversal-open
    with open(name) as fh:
        data = fh.read()
    # ok: python-path-traversal-open
    with open(os.path.basename(name)) as fh:
        data += fh.read()
    # ok: python-path-traversal-open
    with open("/etc/app.conf") as fh:
        data += fh.read()
    return data


@app.route("/upload", methods=["POST"])
def upload():
    upload = request.files["file"]
    # ruleid: python-path-traversal-open
    with open("/srv/uploads/" + upload.filename, "wb") as fh:
        fh.write(upload.read())
    # ok: python-path-traversal-open
    with open("/srv/uploads/" + secure_filename(upload.filename), "wb") as fh:
        fh.write(upload.read())
    return "ok"


@app.route("/download/<path:filename>")
def download(filename):
    # ruleid: python-flask-send-file-traversal
    return send_file(filename)


@app.route("/report")
def report():
    # ruleid: python-flask-send-file-traversal
    flask.send_file(request.args["path"], as_attachment=True)
    # ok: python-flask-send-file-traversal
    send_file("static/report.pdf")
    # ok: python-flask-send-file-traversal
    return send_from_directory(BASE, request.args["path"])


@app.route("/join")
def join():
    # ruleid: python-path-join-request
    path = os.path.join(BASE, request.args["name"])
    # ok: python-path-join-request
    safe = os.path.join(BASE, secure_filename(request.args["name"]))
    # ok: python-path-join-request
    fixed = os.path.join(BASE, "index.html")
    return path + safe + fixed


def offline(name):
    # ok: python-path-traversal-open
    with open(name) as fh:
        return fh.read()
