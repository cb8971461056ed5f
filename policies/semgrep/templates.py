import jinja2
from flask import Flask
from jinja2 import Environment, FileSystemLoader, select_autoescape

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
