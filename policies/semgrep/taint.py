import asyncio
import base64
import cgi
import html
import code
import importlib
import os
import pathlib
import re
import shlex
import sqlite3
import subprocess
import urllib.request
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler
from typing import Annotated, Optional

import ariadne
import flask
import graphene
import httpx
import jwt
import jinja2
import requests
import sqlalchemy
import strawberry
import tornado.web
import yaml
from aiohttp import ClientSession, web
from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect as django_redirect
from django.template import Template as DjangoTemplate
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from fastapi import Depends, FastAPI, HTTPException, Query, Response
from fastapi.responses import FileResponse as FastFileResponse
from fastapi.responses import HTMLResponse, RedirectResponse
from flask import (
    Flask,
    Markup,
    escape,
    make_response,
    redirect,
    render_template,
    render_template_string,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from lxml import etree
from PIL import ImageMath
from pydantic import BaseModel
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from strawberry.types import Info
from werkzeug.utils import secure_filename

CurrentViewer = Annotated[str, Depends(lambda: "viewer")]
app = Flask(__name__)
api = FastAPI()
routes = web.RouteTableDef()
BASE = "/srv/files"
USERS = ["a@example.org"]
FILES = pathlib.Path(BASE)
ALLOWED_HOSTS = {"api.example.org"}


# ---------------------------------------------------------------- SQL injection


def sql_helpers(conn: sqlite3.Connection, user_id: str, name: str) -> None:
    cur = conn.cursor()
    # ruleid: python-sql-injection-formatted
    cur.execute(f"SELECT * FROM users WHERE id = {user_id}")
    # ruleid: python-sql-injection-formatted
    cur.execute("SELECT * FROM users WHERE name = '%s'" % name)
    # ruleid: python-sql-injection-formatted
    cur.execute("SELECT * FROM users WHERE name = '" + name + "'")
    # ruleid: python-sql-injection-formatted
    conn.execute("DELETE FROM users WHERE id = {}".format(user_id))
    query = "UPDATE users SET name = '%s'" % name
    # ruleid: python-sql-injection-formatted
    cur.execute(query)
    # ok: python-sql-injection, python-sql-injection-formatted
    cur.execute("SELECT * FROM users WHERE id = ?", (user_id,))
    # ok: python-sql-injection, python-sql-injection-formatted
    cur.execute("SELECT count(*) FROM users")
    fixed = "SELECT * FROM users WHERE name = ?"
    # ok: python-sql-injection, python-sql-injection-formatted
    cur.execute(fixed, (name,))
    schema = f"bench_{user_id}"
    # ok: python-sql-injection, python-sql-injection-formatted
    cur.execute(sqlalchemy.schema.CreateSchema(schema))
    report = f"""
        SELECT name
        FROM users WHERE id = {user_id}
    """
    # ruleid: python-sql-injection-formatted
    cur.execute(report)
    clause = " WHERE name = '" + name + "'"
    # ruleid: python-sql-injection-formatted
    cur.execute(fixed.replace("?", "") + clause)
    columns = ", ".join(["?"] * len(name))
    # ok: python-sql-injection, python-sql-injection-formatted
    cur.execute("SELECT * FROM users WHERE id IN (%s)" % columns, list(name))


@app.route("/users")
def flask_users():
    order = request.args.get("order", "name")
    sql = "SELECT * FROM users"
    sql += " ORDER BY " + order
    sql = sql + " LIMIT 10"
    # ruleid: python-sql-injection
    connection.cursor().execute(sql, [])
    page = int(request.args.get("page", "1"))
    # ok: python-sql-injection, python-sql-injection-formatted
    connection.cursor().execute("SELECT * FROM users LIMIT 10 OFFSET %s" % page, [])
    return "ok"


def django_search(request):
    term = request.GET["q"]
    with connection.cursor() as cursor:
        # ruleid: python-sql-injection, python-sql-injection-formatted
        cursor.execute("SELECT * FROM shop_item WHERE name LIKE '%" + term + "%'")
        # ok: python-sql-injection, python-sql-injection-formatted
        cursor.execute("SELECT * FROM shop_item WHERE name LIKE %s", ["%" + term + "%"])
    # ruleid: python-sql-injection-formatted
    Item.objects.raw("SELECT * FROM shop_item WHERE owner = '%s'" % request.user.username)
    # ok: python-sql-injection, python-sql-injection-formatted
    Item.objects.raw("SELECT * FROM shop_item WHERE name = %s", [term])
    # ruleid: python-sql-injection
    Item.objects.extra(where=["name = '%s'" % term])
    # ruleid: python-sql-injection, python-sql-injection-formatted
    Item.objects.annotate(rank=RawSQL("SELECT rank FROM r WHERE q = '" + term + "'", []))
    return HttpResponse("ok")


def django_detail(request, slug):
    # ruleid: python-sql-injection, python-sql-injection-formatted
    Item.objects.raw(f"SELECT * FROM shop_item WHERE slug = '{slug}'")
    return HttpResponse("ok")


@api.get("/items")
def fastapi_items(q: str, limit: int, db=Depends(get_db)):
    # ruleid: python-sql-injection, python-sql-injection-formatted
    db.execute(text("SELECT * FROM items WHERE name = '" + q + "'"))
    # ok: python-sql-injection, python-sql-injection-formatted
    db.execute(text("SELECT * FROM items WHERE name = :q"), {"q": q})
    # ok: python-sql-injection, python-sql-injection-formatted
    db.execute(text("SELECT * FROM items LIMIT %d" % limit))
    return []


@routes.get("/orders/{order_id}")
async def aiohttp_order(request):
    order_id = request.match_info["order_id"]
    async with request.app["pool"].acquire() as conn:
        # ruleid: python-sql-injection, python-sql-injection-formatted
        await conn.execute("SELECT * FROM orders WHERE id = " + order_id)
        # ok: python-sql-injection, python-sql-injection-formatted
        await conn.execute("SELECT * FROM orders WHERE id = $1", order_id)
    data = await request.post()
    # ruleid: python-sql-injection, python-sql-injection-formatted
    await conn.execute(sqlalchemy.text("DELETE FROM orders WHERE note = '%s'" % data["note"]))
    return web.Response(text="ok")


# ---------------------------------------------------------------- OS command injection


@app.route("/run")
def flask_run():
    program = request.args["program"]
    # ruleid: python-command-injection
    subprocess.run(program)
    # ruleid: python-command-injection
    subprocess.check_output([program, "--version"])
    # ruleid: python-command-injection
    subprocess.call(["/bin/sh", "-c", "echo " + request.args["msg"]])
    # ruleid: python-command-injection
    subprocess.Popen(shlex.split(request.args["cmd"]))
    # ok: python-command-injection
    subprocess.run(["ping", "-c", "1", "--", shlex.quote(program)])
    # ok: python-command-injection
    subprocess.run(["ls", "-l"])
    # ok: python-command-injection
    subprocess.check_output(["ping", "-c", "1", "--", program])
    return "ok"


def django_ping(request):
    host = request.POST.get("host")
    # ruleid: python-command-injection
    os.execvp(host, [host])
    # ok: python-command-injection
    os.execv("/usr/bin/ping", ["/usr/bin/ping", "-c", "1", host])
    return HttpResponse("ok")


@routes.post("/exec")
async def aiohttp_exec(request):
    body = await request.json()
    # ruleid: python-command-injection
    await asyncio.create_subprocess_exec(body["tool"], "--help")
    # ruleid: python-command-injection
    await asyncio.create_subprocess_exec("bash", "-c", body["script"])
    # ok: python-command-injection
    await asyncio.create_subprocess_exec("git", "log", "-n", str(int(body["n"])))
    return web.Response(text="ok")


@api.post("/ssh")
async def fastapi_ssh(command: str, client=Depends(ssh_client)):
    # ruleid: python-command-injection
    client.exec_command(command)
    return {}


# ---------------------------------------------------------------- code injection


@app.route("/calc")
def flask_calc():
    expr = request.args["expr"]
    # ruleid: python-code-injection
    ImageMath.eval(expr, a=1)
    # ruleid: python-code-injection
    compile(expr, "<calc>", "eval")
    # ruleid: python-code-injection
    importlib.import_module("plugins." + request.args["plugin"])
    # ok: python-code-injection
    ImageMath.eval("a + b", a=1, b=int(expr))
    # ok: python-code-injection
    compile("x = 1", "<static>", "exec")
    return "ok"


@api.post("/console")
async def fastapi_console(request: Request):
    source = (await request.body()).decode()
    # ruleid: python-code-injection
    code.InteractiveInterpreter().runsource(source)
    return {}


# ---------------------------------------------------------------- template injection


@app.route("/page")
def flask_page():
    title = request.args["title"]
    # ruleid: python-flask-ssti
    render_template_string("<h1>" + title + "</h1>")
    # ruleid: python-flask-ssti
    render_template_string("<h1>%s</h1>" % request.form["name"])
    # ok: python-flask-ssti
    render_template_string("<h1>{{ title }}</h1>", title=title)
    # ok: python-flask-ssti
    return render_template("page.html", title=title)


def django_greeting(request):
    # ruleid: python-flask-ssti
    template = DjangoTemplate("Hello " + request.GET.get("name", "") + "!")
    # ok: python-flask-ssti
    safe = DjangoTemplate("Hello {{ name }}!")
    return HttpResponse(str(template) + str(safe))


@routes.get("/hello/{name}")
async def aiohttp_hello(request):
    name = request.match_info["name"]
    env = jinja2.Environment(autoescape=True)
    # ruleid: python-flask-ssti
    env.from_string("Hello " + name)
    # ruleid: python-flask-ssti
    jinja2.Template(request.query.get("tpl", ""))
    # ok: python-flask-ssti
    env.from_string("Hello {{ name }}").render(name=name)
    return web.Response(text="ok")


@api.get("/render")
def fastapi_render(template: str):
    # ruleid: python-flask-ssti
    return jinja2.Environment().from_string(template).render()


# ---------------------------------------------------------------- SSRF


@app.route("/fetch")
def flask_fetch():
    url = request.args.get("url")
    # ruleid: python-ssrf-requests
    r = requests.get(url, timeout=5)
    # ruleid: python-ssrf-requests
    httpx.post(f"{url}/hook", json={})
    # ruleid: python-ssrf-requests
    requests.request("GET", url)
    # ok: python-ssrf-requests
    requests.get("https://api.example.org/search", params={"q": url}, timeout=5)
    # ok: python-ssrf-requests
    requests.get("https://api.example.org/users/" + url, timeout=5)
    # ok: python-ssrf-requests
    requests.get(f"https://api.example.org/users/{url}", timeout=5)
    if url in ALLOWED_HOSTS:
        # ok: python-ssrf-requests
        requests.get(url, timeout=5)
    return r.text


@app.route("/proxy/<path:target>")
def flask_proxy(target):
    # ruleid: python-ssrf-urllib
    body = urllib.request.urlopen(target).read()
    # ruleid: python-ssrf-urllib
    urllib.request.urlopen(urllib.request.Request(request.form["url"]))
    # ok: python-ssrf-urllib
    urllib.request.urlopen("https://status.example.org/health")
    return body


def django_preview(request):
    link = request.POST["link"]
    session = requests.Session()
    # ruleid: python-ssrf-requests
    page = session.get(link, timeout=5)
    # ok: python-ssrf-requests
    request.session.get(link)
    return HttpResponse(page.status_code)


@routes.post("/webhook")
async def aiohttp_webhook(request):
    form = await request.post()
    async with ClientSession() as client:
        # ruleid: python-ssrf-requests
        async with client.get(form["callback"]) as resp:
            return web.Response(text=str(resp.status))


@api.get("/avatar")
async def fastapi_avatar(avatar_url: str):
    async with httpx.AsyncClient() as client:
        # ruleid: python-ssrf-requests
        response = await client.get(avatar_url)
    return response.content


def offline_fetch(url):
    # ok: python-ssrf-requests
    return requests.get(url, timeout=5)


# ---------------------------------------------------------------- path traversal


@app.route("/read")
def flask_read():
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
def flask_upload():
    upload = request.files["file"]
    # ruleid: python-path-traversal-open
    with open("/srv/uploads/" + upload.filename, "wb") as fh:
        fh.write(upload.read())
    # ok: python-path-traversal-open
    with open("/srv/uploads/" + secure_filename(upload.filename), "wb") as fh:
        fh.write(upload.read())
    return "ok"


@app.route("/download/<path:filename>")
def flask_download(filename):
    # ruleid: python-flask-send-file-traversal
    return send_file(filename)


@app.route("/report")
def flask_report():
    # ruleid: python-flask-send-file-traversal
    flask.send_file(request.args["path"], as_attachment=True)
    # ok: python-flask-send-file-traversal
    send_file("static/report.pdf")
    # ok: python-flask-send-file-traversal
    send_from_directory(BASE, request.args["path"])
    # ruleid: python-flask-send-file-traversal
    return send_from_directory(request.args["folder"], "index.html")


@app.route("/join")
def flask_join():
    # ruleid: python-path-join-request
    path = os.path.join(BASE, request.args["name"])
    # ok: python-path-join-request
    safe = os.path.join(BASE, secure_filename(request.args["name"]))
    # ok: python-path-join-request
    fixed = os.path.join(BASE, "index.html")
    # ok: python-path-traversal-open
    with open(path) as fh:
        return fh.read() + safe + fixed


def django_download(request, filename):
    # ruleid: python-path-traversal-open
    return FileResponse(open(filename, "rb"))


@api.get("/files/{name}")
def fastapi_contained(name: str):
    # ok: python-path-join-request
    target = (FILES / name).resolve()
    if not target.is_relative_to(FILES):
        raise HTTPException(404)
    # ok: python-path-join-request
    real = os.path.realpath(os.path.join(BASE, name))
    if not real.startswith(BASE + os.sep):
        raise HTTPException(404)
    return target, real


def django_delete(request):
    target = request.GET["file"]
    # ruleid: python-path-join-request
    victim = pathlib.Path(BASE) / target
    # ok: python-path-traversal-open
    victim.unlink()
    real = os.path.realpath(target)
    if real.startswith(BASE):
        # ok: python-path-traversal-open
        os.remove(real)
    return HttpResponse("ok")


@routes.get("/static/{name}")
async def aiohttp_static(request):
    # ruleid: python-flask-send-file-traversal
    return web.FileResponse(request.match_info["name"])


@api.get("/files/{name}")
async def fastapi_file(name: str, size: int):
    # ruleid: python-flask-send-file-traversal
    return FastFileResponse(name)


def offline_read(name):
    # ok: python-path-traversal-open
    with open(name) as fh:
        return fh.read()


# ---------------------------------------------------------------- open redirect


@app.route("/login")
def flask_login():
    target = request.args.get("next", "/")
    # ok: python-open-redirect
    redirect(url_for("profile", next=target))
    # ok: python-open-redirect
    redirect("/profile/" + target)
    # ruleid: python-open-redirect
    return redirect(target)


def django_logout(request):
    next_url = request.GET.get("next")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        # ok: python-open-redirect
        return HttpResponseRedirect(next_url)
    # ruleid: python-open-redirect
    return django_redirect(request.POST["return_to"])


def django_moved(request):
    response = HttpResponse(status=302)
    # ruleid: python-open-redirect
    response["Location"] = request.GET["to"]
    # ok: python-open-redirect
    response["Location"] = "/home"
    return response


@routes.get("/go")
async def aiohttp_go(request):
    # ruleid: python-open-redirect
    raise web.HTTPFound(request.query["to"])


@routes.get("/away")
async def aiohttp_away(req: web.Request):
    # ruleid: python-open-redirect
    raise web.HTTPFound(req.query["to"])


@routes.get("/back")
async def aiohttp_back(req: web.Request):
    # ok: python-open-redirect
    raise web.HTTPFound(req.app["home"])


@api.get("/out")
def fastapi_out(url: str):
    # ruleid: python-open-redirect
    return RedirectResponse(url)


# ---------------------------------------------------------------- reflected XSS and markup


@app.route("/hello")
def flask_hello():
    name = request.args.get("name", "")
    # ruleid: python-markup-request-data
    greeting = Markup("<b>Hello " + name + "</b>")
    # ok: python-markup-request-data
    escaped = Markup("<b>Hello %s</b>") % escape(name)
    # ok: python-markup-request-data
    static = Markup("<b>Hello</b>")
    return greeting + escaped + static


@app.route("/echo")
def flask_echo():
    word = request.args.get("word", "")
    if word == "json":
        # ok: python-reflected-xss
        return {"word": word}
    if word == "escaped":
        # ok: python-reflected-xss
        return "<p>" + escape(word) + "</p>"
    if word == "claims":
        claims = jwt.decode(request.headers["token"], options={"verify_signature": False})
        # ok: python-reflected-xss
        return flask.make_response(claims)
    if word == "built":
        page = "<p>" + word + "</p>"
        # ruleid: python-reflected-xss
        return flask.make_response(page)
    # ruleid: python-reflected-xss
    return "<p>You searched for " + word + "</p>"


def django_echo(request):
    query = request.GET.get("q", "")
    if not query:
        # ok: python-reflected-xss
        return HttpResponse(query, content_type="text/plain")
    # ruleid: python-markup-request-data
    mark_safe("<i>" + query + "</i>")
    # ruleid: python-reflected-xss
    return HttpResponse("<h1>Results for %s</h1>" % query)


@api.get("/greet")
def fastapi_greet(name: str):
    # ruleid: python-reflected-xss
    return HTMLResponse(f"<h1>Hello {name}</h1>")


@routes.get("/echo")
async def aiohttp_echo(request):
    # ruleid: python-reflected-xss
    return web.Response(text="<p>" + request.query["q"] + "</p>", content_type="text/html")


# ---------------------------------------------------------------- XXE


@app.route("/import", methods=["POST"])
def flask_import():
    # ruleid: python-xxe-untrusted
    doc = etree.fromstring(request.data)
    # ok: python-xxe-untrusted
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    safe = etree.fromstring(request.data, parser)
    # ok: python-xxe-untrusted
    static = etree.fromstring(b"<a/>")
    return str(doc) + str(safe) + str(static)


def django_import(request):
    # ruleid: python-xxe-untrusted
    tree = etree.parse(request.FILES["xml"])
    return HttpResponse(tree.getroot().tag)


# ---------------------------------------------------------------- typed handler parameters


@api.get("/typed/{item_id}")
def fastapi_typed(item_id: uuid.UUID, count: int, flag: bool = False):
    # ok: python-sql-injection, python-sql-injection-formatted
    connection.cursor().execute("SELECT * FROM t WHERE id = '%s'" % item_id, [])
    # ok: python-path-traversal-open
    open(str(count))
    return {}


class NewItem(BaseModel):
    name: str
    folder: str


@api.get("/reports")
def fastapi_report(name: Optional[str] = None, folder: Annotated[str, Query()] = "."):
    # ruleid: python-path-traversal-open
    first = open(name).read()
    # ruleid: python-path-traversal-open
    return first + open(folder).read()


@api.post("/items")
def fastapi_create(item: NewItem, viewer: CurrentViewer, tags: list[str]):
    # ruleid: python-sql-injection, python-sql-injection-formatted
    connection.cursor().execute(f"INSERT INTO items (name) VALUES ('{item.name}')")
    # ruleid: python-path-traversal-open
    open(item.model_dump()["folder"])
    # ruleid: python-regex-injection
    re.compile(tags[0])
    # ok: python-path-traversal-open
    open(viewer)
    return {}


def not_a_view(cfg):
    # ok: python-path-traversal-open
    return open(cfg["path"]).read() + yaml.safe_dump({})


def django_download(request, file_id):
    stored = UploadedFile.objects.get(pk=file_id)
    # ok: python-path-traversal-open
    return FileResponse(open(stored.path, "rb"))


class ReportView:
    """A Django class-based view method: the URL's arguments are in self.kwargs."""

    def get_object(self):
        # ruleid: python-regex-injection
        return re.compile(self.kwargs["pattern"])


# ---------------------------------------------------------------- regular expressions


@app.route("/users/search")
def flask_regex_search():
    term = request.args["email"]
    # ruleid: python-regex-injection
    found = [u for u in USERS if re.search(term, u)]
    # ok: python-regex-injection
    exact = [u for u in USERS if re.search(re.escape(term), u)]
    # ok: python-regex-injection
    literal = re.findall(r"[\w.]+@example\.org", term)
    return {"found": found, "exact": exact, "literal": literal}


# ---------------------------------------------------------------- response headers


@app.route("/download-as")
def flask_download_as():
    name = request.args["name"]
    response = make_response("data")
    # ruleid: python-header-injection
    response.headers["Content-Disposition"] = "attachment; filename=" + name
    # ruleid: python-header-injection
    response.headers.add("X-Trace", request.headers["X-Trace"])
    # ruleid: python-header-injection
    response.headers[request.args["header"]] = "1"
    # ok: python-header-injection
    response.headers["Content-Disposition"] = "attachment; filename=" + urllib.parse.quote(name)
    # ok: python-header-injection
    response.headers["X-Clean"] = name.replace("\r", "").replace("\n", "")
    # ok: python-header-injection
    response.headers["X-Count"] = str(int(request.args["count"]))
    # ok: python-header-injection
    response.headers["X-Mode"] = {"a": "fast", "b": "slow"}.get(request.args["mode"], "fast")
    # ok: python-header-injection
    response.headers["X-Fixed"] = "nosniff"
    # ok: python-header-injection, python-open-redirect
    response.headers["X-Requested"] = request.args.get("requested", "")[:0]
    return response


@app.route("/tagged")
def flask_tagged():
    tag = request.args["tag"]
    if "\r" in tag or "\n" in tag:
        flask.abort(400)
    # ok: python-header-injection
    resp = flask.Response("ok", headers={"X-Tag": tag})
    # ruleid: python-header-injection
    other = flask.Response("ok", headers={"X-Lang": request.args["lang"]})
    # ruleid: python-header-injection
    return "ok", 200, {"X-Echo": request.args["echo"]}


@app.route("/session-copy")
def flask_outgoing_headers():
    client = requests.Session()
    # ok: python-header-injection
    client.headers["X-User"] = request.args["user"]
    # ok: python-header-injection
    client.headers.update({"X-User": request.args["user"]})
    context = {}
    # ok: python-header-injection
    context["user"] = request.args["user"]
    return context


def django_export(request):
    filename = request.GET.get("name", "export.csv")
    response = HttpResponse("a,b", content_type="text/csv")
    # ruleid: python-header-injection
    response["Content-Disposition"] = f"attachment; filename={filename}"
    # ruleid: python-open-redirect
    response["Location"] = request.GET["next"]  # ok: python-header-injection
    # ok: python-header-injection
    response["Content-Disposition"] = "attachment; filename=export.csv"
    # ruleid: python-header-injection
    return HttpResponse("x", headers={"X-Name": request.GET["name"]})


def django_checked_header(request):
    lang = request.GET["lang"]
    if not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", lang):
        return HttpResponse(status=400)
    response = HttpResponse("ok")
    # ok: python-header-injection
    response["Content-Language"] = lang
    return response


@api.get("/export")
def fastapi_export(name: str, response: Response, size: int):
    # ruleid: python-header-injection
    response.headers["X-Export"] = name
    # ok: python-header-injection
    response.headers["X-Size"] = str(size)
    # ok: python-header-injection
    response.headers["X-Export-Id"] = base64.urlsafe_b64encode(name.encode()).decode()
    # ruleid: python-header-injection
    return PlainTextResponse("ok", headers={"X-Name": name})


@api.get("/missing")
def fastapi_missing(key: str):
    # ruleid: python-header-injection
    raise HTTPException(status_code=404, headers={"X-Missing": key})


@routes.get("/tag")
async def aiohttp_tag(request):
    # ruleid: python-header-injection
    return web.Response(text="ok", headers={"X-Tag": request.query["tag"]})


@routes.get("/etag")
async def aiohttp_etag(request):
    resp = web.Response(text="ok")
    # ruleid: python-header-injection
    resp.headers["ETag"] = request.match_info["version"]
    # ok: python-header-injection
    resp.headers["X-Hash"] = hashlib_like(request.query["q"]).hexdigest()
    return resp


def hashlib_like(value):
    return value


class TornadoHandler(tornado.web.RequestHandler):
    def get(self):
        # ruleid: python-header-injection
        self.set_header("X-Name", self.get_argument("name"))
        # ruleid: python-header-injection
        self.add_header("Link", "<%s>; rel=next" % self.get_argument("next"))
        # ok: python-header-injection
        self.set_header("X-Page", int(self.get_argument("page")))


class StaticHandler(BaseHTTPRequestHandler):
    """http.server: the request line, headers and body are input; headers are written raw."""

    def do_GET(self):
        self.send_response(200)
        # ruleid: python-header-injection
        self.send_header("X-Path", self.path)
        # ruleid: python-header-injection
        self.send_header("Set-Cookie", "lang=" + self.headers.get("Accept-Language", ""))
        # ok: python-header-injection
        self.send_header("X-Path", urllib.parse.quote(self.path))
        # ok: python-header-injection
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        page = "<h1>" + self.path + "</h1>"
        # ruleid: python-reflected-xss
        self.wfile.write(page.encode())
        # ruleid: python-reflected-xss
        self.wfile.write(f"<p>{self.headers['User-Agent']}</p>".encode("utf-8"))
        # ok: python-reflected-xss
        self.wfile.write(("<h1>%s</h1>" % html.escape(self.path)).encode())
        # ok: python-reflected-xss
        self.wfile.write(b"<p>done</p>")

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        form = cgi.FieldStorage(fp=self.rfile, headers=self.headers, environ={"REQUEST_METHOD": "POST"})
        # ruleid: python-sql-injection, python-sql-injection-formatted
        connection.cursor().execute("SELECT * FROM t WHERE name = '%s'" % form.getvalue("name"))
        # ruleid: python-path-traversal-open
        open(self.rfile.readline().strip())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        # ok: python-reflected-xss
        self.wfile.write(body)


class FileHandler(SimpleHTTPRequestHandler):
    def do_GET(self):
        # ruleid: python-regex-injection
        re.compile(self.path)


class NotAHandler:
    def __init__(self, path):
        self.path = path
        self.headers = {}

    def run(self):
        # ok: python-regex-injection
        re.compile(self.path)
        # ok: python-header-injection
        self.send_header("X-Path", self.path)

    def send_header(self, name, value):
        self.headers[name] = value


# ---------------------------------------------------------------- XPath


@app.route("/users/find")
def flask_xpath():
    tree = etree.parse("users.xml")
    name = request.args["name"]
    # ruleid: python-xpath-injection
    tree.xpath("//user[@name='" + name + "']")
    # ruleid: python-xpath-injection
    tree.xpath(f"//user[@name='{name}']/email/text()")
    # ok: python-xpath-injection
    tree.xpath("//user[@name=$name]/email/text()", name=name)
    # ruleid: python-xpath-injection
    find = etree.XPath("//user[@id=%s]" % request.args["id"])
    # ok: python-xpath-injection
    by_name = etree.XPath("//user[@name=$name]")
    # ok: python-xpath-injection
    found = by_name(tree, name=name)
    # ok: python-xpath-injection
    tree.xpath("//user[@id=%d]" % int(request.args["id"]))
    return str(find) + str(found)


def django_xpath(request):
    doc = etree.fromstring(b"<users/>")
    evaluator = etree.XPathEvaluator(doc)
    # ruleid: python-xpath-injection
    evaluator("//user[@role='%s']" % request.GET["role"])
    # ruleid: python-xpath-injection
    etree.XPathEvaluator(doc)("//user[@id=" + request.GET["id"] + "]")
    # ok: python-xpath-injection
    evaluator("//user[@role=$role]", role=request.GET["role"])
    root = ET.parse("users.xml").getroot()
    # ruleid: python-xpath-injection
    root.findall(".//user[@name='%s']" % request.GET["name"])
    # ok: python-xpath-injection
    root.findall(".//user")
    # ok: python-xpath-injection
    "users/name".find(request.GET["name"])
    return HttpResponse("ok")


# ---------------------------------------------------------------- GraphQL resolvers


class GrapheneQuery(graphene.ObjectType):
    user = graphene.Field(graphene.String, name=graphene.String(), limit=graphene.Int())

    def resolve_user(root, info, name, limit: int = 10):
        # ruleid: python-sql-injection, python-sql-injection-formatted
        connection.cursor().execute(f"SELECT * FROM users WHERE name = '{name}' LIMIT {limit}")
        # ok: python-regex-injection
        re.compile(str(limit))
        # ok: python-regex-injection
        re.compile(info.context.path_pattern)
        return name

    def helper(self, info, name):
        # ok: python-regex-injection
        return re.compile(name)


class RenameUser(graphene.Mutation):
    class Arguments:
        name = graphene.String()

    ok = graphene.Boolean()

    def mutate(root, info, **kwargs):
        # ruleid: python-command-injection
        subprocess.run(kwargs["name"])
        return RenameUser(ok=True)


@strawberry.type
class StrawberryQuery:
    @strawberry.field
    def search(self, info: Info, pattern: str, limit: int) -> list[str]:
        # ruleid: python-regex-injection
        re.compile(pattern)
        # ok: python-regex-injection
        re.compile(str(limit))
        # ok: python-regex-injection
        re.compile(info.context["pattern"])
        return []

    @strawberry.mutation(description="Fetch a feed")
    async def fetch(self, url: str) -> str:
        # ruleid: python-ssrf-requests
        return requests.get(url).text

    def plain(self, pattern: str) -> str:
        # ok: python-regex-injection
        return re.compile(pattern).pattern


graphql_query = ariadne.QueryType()


@graphql_query.field("file")
def resolve_file(obj, info, **kwargs):
    # ruleid: python-path-traversal-open
    return open(kwargs["path"]).read()


@graphql_query.field("document")
def resolve_document(_, info, xpath):
    # ruleid: python-xpath-injection
    return etree.parse("doc.xml").xpath(xpath)


def load_unregistered(obj, info, path):
    # ok: python-path-traversal-open
    return open(path).read()
