import urllib.request

import httpx
import requests
from flask import Flask, request

app = Flask(__name__)


@app.route("/fetch")
def fetch():
    url = request.args.get("url")
    # ruleid: python-ssrf-requests
    r = requests.get(url, timeout=5)
    # ruleid: python-ssrf-requests
    httpx.post(f"{url}/hook", json={})
    # ruleid: python-ssrf-requests
    requests.request("GET", url)
    # ok: python-ssrf-requests
    requests.get("https://api.example.org/search", params={"q": url}, timeout=5)
    return r.text


@app.route("/proxy/<path:target>")
def proxy(target):
    # ruleid: python-ssrf-urllib
    body = urllib.request.urlopen(target).read()
    # ruleid: python-ssrf-urllib
    urllib.request.urlopen(urllib.request.Request(request.form["url"]))
    # ok: python-ssrf-urllib
    urllib.request.urlopen("https://status.example.org/health")
    return body


def internal(url):
    # ok: python-ssrf-requests
    return requests.get(url, timeout=5)
