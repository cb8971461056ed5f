import aiohttp_jinja2
import bleach
import jinja2
from aiohttp import web
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from fastapi.templating import Jinja2Templates
from flask import Flask, render_template
from jinja2 import Environment, FileSystemLoader, select_autoescape
from mako.lookup import TemplateLookup
from mako.template import Template as MakoTemplate
from markupsafe import Markup

app = Flask(__name__)
application = web.Application()

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


# ruleid: python-jinja2-autoescape-false
aiohttp_jinja2.setup(application, loader=FileSystemLoader("templates"), autoescape=False)
# ok: python-jinja2-autoescape-false
aiohttp_jinja2.setup(application, loader=FileSystemLoader("templates"))
# ruleid: python-jinja2-autoescape-false
templates = Jinja2Templates(directory="templates", autoescape=False)
# ok: python-jinja2-autoescape-false
templates = Jinja2Templates(directory="templates")
# ruleid: python-jinja2-autoescape-false
app.jinja_env.autoescape = False
# ok: python-jinja2-autoescape-false
app.jinja_env.autoescape = True

TEMPLATES = [
    # ruleid: python-jinja2-autoescape-false
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"autoescape": False, "context_processors": []},
    },
    # ok: python-jinja2-autoescape-false
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"context_processors": []},
    },
]

GREETING = "<b>Welcome</b>"


def bio(user, comment):
    # ruleid: python-mark-safe-non-literal
    html = mark_safe(user.profile.bio)
    # ruleid: python-mark-safe-non-literal
    html = mark_safe(f"<p>{comment}</p>")
    # ruleid: python-mark-safe-non-literal
    html = Markup("<b>%s</b>" % user.name)
    # ruleid: python-mark-safe-non-literal
    html = format_html(f"<a href='{user.url}'>{{}}</a>", user.name)
    # ruleid: python-mark-safe-non-literal
    html = format_html("<b>" + user.name + "</b>")
    # ok: python-mark-safe-non-literal
    html = format_html("<b>{}</b>", user.name)
    # ok: python-mark-safe-non-literal
    html = mark_safe("<br>")
    # ok: python-mark-safe-non-literal
    html = mark_safe(GREETING)
    # ok: python-mark-safe-non-literal
    html = mark_safe(escape(comment))
    # ok: python-mark-safe-non-literal
    html = mark_safe(_("Read the <a href='/terms'>terms</a>"))
    # ok: python-mark-safe-non-literal
    html = Markup("<b>{}</b>").format(user.name)
    # ok: python-mark-safe-non-literal
    html = Markup(render_template("card.html", user=user))
    # ok: python-mark-safe-non-literal
    html = mark_safe(render_to_string("card.html", {"user": user}))
    # ok: python-mark-safe-non-literal
    html = mark_safe(bleach.clean(comment))
    # ok: python-mark-safe-non-literal
    html = mark_safe(", ".join(format_html("<a href='{}'>{}</a>", t.url, t.name) for t in user.tags))
    # ruleid: python-mark-safe-non-literal
    html = mark_safe(", ".join(t.name for t in user.tags))
    return html


# ruleid: python-mako-no-escaping
page = MakoTemplate("<p>${comment}</p>")
# ok: python-mako-no-escaping
page = MakoTemplate("<p>${comment}</p>", default_filters=["h"])
# ruleid: python-mako-no-escaping
lookup = TemplateLookup(directories=["templates"])
# ok: python-mako-no-escaping
lookup = TemplateLookup(directories=["templates"], default_filters=["h", "unicode"])
