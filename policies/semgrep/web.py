import asyncio
import base64
import json
import os

import aiohttp_debugtoolbar
import aiohttp_session
from aiohttp import web
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from flask_cors import CORS
from flask import Flask, make_response
from flask_wtf.csrf import CSRFProtect
from starlette.applications import Starlette
from starlette.responses import JSONResponse

app = Flask(__name__)
csrf = CSRFProtect(app)


# ruleid: python-csrf-exempt
@csrf_exempt
def transfer(request):
    return HttpResponse("ok")


# ok: python-csrf-exempt
@csrf_protect
def transfer_protected(request):
    return HttpResponse("ok")


# ruleid: python-csrf-exempt
@method_decorator(csrf_exempt, name="dispatch")
class TransferView(View):
    pass


# ruleid: python-csrf-exempt
urlpatterns = [path("pay/", csrf_exempt(transfer))]


# ruleid: python-csrf-exempt
@csrf.exempt
@app.route("/hook", methods=["POST"])
def hook():
    return "ok"


# ok: python-csrf-exempt
@app.route("/exempt-word", methods=["POST"])
def exempt_word():
    return "ok"


# ruleid: python-csrf-protection-disabled
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

# ok: python-csrf-protection-disabled
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

# ok: python-csrf-protection-disabled
MIDDLEWARE = [
    "starlette.middleware.gzip.GZipMiddleware",
]

# ruleid: python-csrf-protection-disabled
MIDDLEWARE.remove("django.middleware.csrf.CsrfViewMiddleware")

# ruleid: python-csrf-protection-disabled
settings.MIDDLEWARE.remove("django.middleware.csrf.CsrfViewMiddleware")

# ruleid: python-csrf-protection-disabled
WTF_CSRF_ENABLED = False


class ProductionConfig:
    # ruleid: python-csrf-protection-disabled
    WTF_CSRF_ENABLED = False
    # ruleid: python-insecure-cookie-setting
    SESSION_COOKIE_SECURE = False


class TestingConfig:
    # ok: python-csrf-protection-disabled
    WTF_CSRF_ENABLED = False
    # ok: python-insecure-cookie-setting
    SESSION_COOKIE_SECURE = False


def create_app():
    application = Flask(__name__)
    # ruleid: python-csrf-protection-disabled
    application.config["WTF_CSRF_ENABLED"] = False
    # ruleid: python-insecure-cookie-setting
    application.config.update(SESSION_COOKIE_HTTPONLY=False)
    # ok: python-insecure-cookie-setting
    application.config.update(SESSION_COOKIE_SECURE=True)
    return application


def test_login(client):
    # ok: python-csrf-protection-disabled
    app.config["WTF_CSRF_ENABLED"] = False


# ruleid: python-django-allowed-hosts-wildcard
ALLOWED_HOSTS = ["*"]
# ruleid: python-django-allowed-hosts-wildcard
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")
# ok: python-django-allowed-hosts-wildcard
ALLOWED_HOSTS = ["shop.example.com", "*.example.com"]
# ok: python-django-allowed-hosts-wildcard
ALLOWED_HOSTS = os.environ["ALLOWED_HOSTS"].split(",")

# ruleid: python-insecure-cookie-setting
SESSION_COOKIE_SECURE = False
# ruleid: python-insecure-cookie-setting
CSRF_COOKIE_SECURE = False
# ok: python-insecure-cookie-setting
CSRF_COOKIE_HTTPONLY = False
# ok: python-insecure-cookie-setting
SESSION_COOKIE_SECURE = True


def cookies(request, token):
    response = HttpResponse("ok")
    # ruleid: python-cookie-without-secure-flags
    response.set_cookie("sessionid", token)
    # ruleid: python-cookie-without-secure-flags
    response.set_cookie("sessionid", token, secure=True)
    # ruleid: python-cookie-without-secure-flags
    response.set_cookie("sessionid", token, httponly=True, secure=False)
    # ruleid: python-cookie-without-secure-flags
    response.set_signed_cookie("user", token, httponly=True)
    # ok: python-cookie-without-secure-flags
    response.set_cookie("sessionid", token, secure=True, httponly=True, samesite="Lax")
    # ok: python-cookie-without-secure-flags
    response.set_cookie("sessionid", token, httponly=True, secure=request.is_secure())
    # ok: python-cookie-without-secure-flags
    response.set_cookie("sessionid", token, **cookie_options)
    # ok: python-cookie-without-secure-flags
    response.set_cookie("theme", "dark", max_age=31536000)
    return response


def flask_cookie(token):
    resp = make_response("ok")
    # ruleid: python-cookie-without-secure-flags
    resp.set_cookie("token", token, httponly=True)
    return resp


async def starlette_cookie(token):
    resp = JSONResponse({})
    # ruleid: python-cookie-without-secure-flags
    resp.set_cookie(key="session", value=token)
    return resp


async def aiohttp_cookie(request):
    resp = web.Response(text="ok")
    # ruleid: python-cookie-without-secure-flags
    resp.set_cookie("AIOHTTP_SESSION", request["session_id"], max_age=3600)
    # ok: python-cookie-without-secure-flags
    resp.set_cookie("env", "graphiql:disable")
    # ok: python-cookie-without-secure-flags
    resp.set_cookie("AIOHTTP_SESSION", "", expires=0)
    # ok: python-cookie-without-secure-flags
    resp.set_cookie("session_id", None)
    return resp


def client_side(client):
    # ok: python-cookie-without-secure-flags
    client.set_cookie("localhost", "session", "x")
    # ok: python-cookie-without-secure-flags
    self.set_cookie(copy.copy(cookie))


# ruleid: python-web-debug-mode
api = FastAPI(debug=True)
# ok: python-web-debug-mode
api = FastAPI(debug=os.environ.get("DEBUG") == "1")
# ruleid: python-web-debug-mode
star = Starlette(debug=True, routes=[])
# ok: python-web-debug-mode
star = Starlette(routes=[])
# ruleid: python-web-debug-mode
WEB_DEBUG = os.environ.get("WEB_DEBUG", True)
# ruleid: python-web-debug-mode
DJANGO_DEBUG = os.getenv("DJANGO_DEBUG", "True") == "True"
# ok: python-web-debug-mode
QUIET_DEBUG = os.getenv("DEBUG", "False") == "True"
# ok: python-web-debug-mode
WORKERS = os.environ.get("WORKERS", "1")


def serve(flask_app):
    # ruleid: python-web-debug-mode
    flask_app.run(host="127.0.0.1", debug=os.environ.get("FLASK_DEBUG", "1") == "1")


async def make_app():
    # ruleid: python-web-debug-mode
    application = web.Application(debug=True)
    # ruleid: python-web-debug-mode
    aiohttp_debugtoolbar.setup(application)
    # ruleid: python-web-debug-mode
    asyncio.get_event_loop().set_debug(True)
    # ok: python-web-debug-mode
    asyncio.get_event_loop().set_debug(False)
    # ok: python-web-debug-mode
    return web.Application()


# ruleid: python-cors-any-origin
CORS_ALLOW_ALL_ORIGINS = True
# ok: python-cors-any-origin
CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
# ruleid: python-cors-any-origin
CORS(app, supports_credentials=True)
# ok: python-cors-any-origin
CORS(app, origins=["https://shop.example.com"], supports_credentials=True)
# ok: python-cors-any-origin
CORS(app)
# ruleid: python-cors-any-origin
api.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])
# ok: python-cors-any-origin
api.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])
# ok: python-cors-any-origin
api.add_middleware(CORSMiddleware, allow_origins=["https://shop.example.com"], allow_credentials=True)


def sessions(application):
    # ruleid: python-session-cookie-unprotected
    aiohttp_session.setup(application, aiohttp_session.SimpleCookieStorage())
    # ruleid: python-session-cookie-unprotected
    aiohttp_session.setup(application, EncryptedCookieStorage(key, httponly=False))
    # ok: python-session-cookie-unprotected
    aiohttp_session.setup(application, EncryptedCookieStorage(key))


def admin_panel(request):
    # ruleid: python-cookie-authorization
    if request.COOKIES.get("admin") == "1":
        return HttpResponse("all orders")
    cookie = request.COOKIES.get("cookie")
    # ruleid: python-cookie-authorization
    if cookie and cookie.split("|")[0] == "admin":
        return HttpResponse("admin")
    # ok: python-cookie-authorization
    if request.COOKIES.get("consent") == "1":
        return HttpResponse("thanks")
    # ok: python-cookie-authorization
    if request.user.is_staff and request.COOKIES.get("theme") == "dark":
        return HttpResponse("dark")
    return HttpResponse("no")


def load_session(request):
    raw = request.cookies.get("vulpy_session")
    # ruleid: python-cookie-authorization
    session = json.loads(base64.b64decode(raw))
    # ok: python-cookie-authorization
    prefs = json.loads(request.cookies.get("ui_prefs", "{}"))
    return session, prefs
