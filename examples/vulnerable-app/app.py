"""A tiny notes service, deliberately vulnerable: riskgate's semgrep rules must catch it.

Do not deploy this. Every flaw is on purpose and named in README.md.
"""

import hashlib
import os
import sqlite3
import subprocess

import requests
import yaml
from flask import Flask, request, send_file

from storage import load_session, save_session

app = Flask(__name__)
app.config["SECRET_KEY"] = "dev"

# A hard-coded credential for the upstream API.
API_KEY = "sk_live_51NotesAppR3alK3yD0N0tUse"
DB_PASSWORD = "notes-admin-2024!"
UPLOADS = "/srv/notes/uploads"


def db() -> sqlite3.Connection:
    return sqlite3.connect("notes.db")


def hash_password(password: str) -> str:
    return hashlib.md5(password.encode()).hexdigest()


@app.route("/login", methods=["POST"])
def login():
    name = request.form["name"]
    digest = hash_password(request.form["password"])
    cur = db().cursor()
    cur.execute(f"SELECT id FROM users WHERE name = '{name}' AND password = '{digest}'")
    row = cur.fetchone()
    return {"ok": row is not None}


@app.route("/notes/search")
def search():
    term = request.args.get("q", "")
    cur = db().cursor()
    cur.execute("SELECT id, title FROM notes WHERE title LIKE '%" + term + "%'")
    return {"notes": cur.fetchall()}


@app.route("/notes/import", methods=["POST"])
def import_notes():
    notes = yaml.load(request.data)
    return {"imported": len(notes)}


@app.route("/attachments")
def attachment():
    name = request.args["name"]
    return send_file(UPLOADS + "/" + name)


@app.route("/attachments/raw")
def attachment_raw():
    with open(request.args["path"], "rb") as fh:
        return fh.read()


@app.route("/admin/ping")
def ping():
    host = request.args.get("host", "127.0.0.1")
    output = subprocess.check_output("ping -c 1 " + host, shell=True)
    return output


@app.route("/admin/disk")
def disk():
    os.system("du -sh " + request.args.get("dir", UPLOADS))
    return "ok"


@app.route("/preview")
def preview():
    url = request.args["url"]
    page = requests.get(url, verify=False, timeout=10)
    return page.text


@app.route("/session", methods=["POST"])
def restore_session():
    return load_session(request.cookies.get("session", ""))


@app.route("/session/save", methods=["POST"])
def store_session():
    return save_session(request.get_json())


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000, debug=True)
