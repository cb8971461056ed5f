import jinja2
from flask import Flask, render_template, render_template_string, request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

app = Flask(__name__)

# ruleid: python-jinja2-autoescape-disabled
env = Environment(loader=FileSystemLoader("templates"))
# ok: python-jinja2-autoescape-disabled
safe_env = Environment(loader=FileSystemLoader("templates"), autoescape=select_autoescape())
# ok: python-jinja2-autoescape-disabled
also_safe = jinja2.Environment(autoescape=True)
# ruleid: python-jinja2-autoescape-false
raw_env = jinja2.Environment(autoescape=False)
# ok: python-jinja2-autoescape-false
html_env = jinja2.Environment(autoescape=select_autoescape(["html"]))


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    # ruleid: python-markup-request-data
    greeting = Markup("<b>Hello " + name + "</b>")
    # ok: python-markup-request-data
    escaped = Markup("<b>Hello %s</b>") % escape(name)
    # ok: python-markup-request-data
    static = Markup("<b>Hello</b>")
    return greeting + escaped + static


@app.route("/page")
def page():
    title = request.args["title"]
    # ruleid: python-flask-ssti
    render_template_string("<h1>" + title + "</h1>")
    # ok: python-flask-ssti
    render_template_string("<h1>{{ title }}</h1>", title=title)
    # ok: python-flask-ssti
    return render_template("page.html", title=title)
