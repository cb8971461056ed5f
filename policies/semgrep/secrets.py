import base64
import hashlib
import hmac
import os

import aiohttp_session
import bcrypt
import boto3
import jwt
import psycopg2
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from itsdangerous import URLSafeTimedSerializer

# ruleid: python-hardcoded-password
DB_PASSWORD = "s3cr3t-Passw0rd!"
# ok: python-hardcoded-password
ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]
# ok: python-hardcoded-password
PASSWORD = ""
# ok: python-hardcoded-password
password = "changeme"


def connect() -> None:
    # ruleid: python-hardcoded-password
    psycopg2.connect(host="db", user="app", password="hunter2hunter2")
    # ok: python-hardcoded-password
    psycopg2.connect(host="db", user="app", password=os.environ["PGPASSWORD"])
    config = {
        # ruleid: python-hardcoded-password
        "password": "Tr0ub4dor&3",
        "user": "app",
    }
    return config


class Settings:
    def __init__(self) -> None:
        # ruleid: python-hardcoded-api-key, python-platform-token
        self.api_key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
        # ok: python-hardcoded-api-key
        self.secret_key = os.environ.get("SECRET_KEY", "")


# ruleid: python-hardcoded-api-key
STRIPE_SECRET_KEY = "rk_live_51H8d9fJk2lQpZx0y7"
# ok: python-hardcoded-api-key
GITHUB_TOKEN_NAME = "GITHUB_TOKEN"
# ok: python-hardcoded-api-key
API_KEY = "your-api-key-here"


def aws() -> None:
    boto3.client(
        "s3",
        # ruleid: python-aws-access-key
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    # ok: python-aws-access-key
    boto3.client("s3", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"])


# ruleid: python-private-key-in-source
SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu
-----END RSA PRIVATE KEY-----"""
# ruleid: python-private-key-in-source
DEPLOY_KEY = """
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
-----END OPENSSH PRIVATE KEY-----
"""
# ruleid: python-private-key-in-source
EC_KEY = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yBY\n-----END EC PRIVATE KEY-----\n"
# ruleid: python-private-key-in-source
PEM_SETTING = "PEM=-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----"
# ok: python-private-key-in-source
PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf
-----END PUBLIC KEY-----"""


# ruleid: python-hardcoded-api-key
SECRET_KEY = "your-secret-key-here"
# ruleid: python-hardcoded-api-key
app.secret_key = "secret"
# ruleid: python-hardcoded-api-key
app.config["SECRET_KEY"] = "dev"
# ok: python-hardcoded-api-key
api_key = "short"
# ok: python-hardcoded-api-key
SECRET_KEY = "DJANGO_SECRET_KEY"
# ok: python-hardcoded-api-key
SESSION_SECRET_KEY = "sid"
# ruleid: python-hardcoded-api-key
SECRET_COOKIE_KEY = "PYGOAT"
# ruleid: python-hardcoded-api-key
HMAC_KEY = "0c6c7a1e-mac"
JWT_SIGNING = "s1gn-me"
# ruleid: python-hardcoded-api-key
JWT_SECRET_KEY = "dev"
# ruleid: python-hardcoded-api-key
SESSION_SECRET_KEY = "s3ss10n-k3y"
# ok: python-hardcoded-password
password = "$2b$12$KIXQJ8l1XQ0Zq3l5h0y1UeY5JcE8uK2n3Ff6l0u9bq8b1l1z9Zc7e"
# ok: python-hardcoded-password
password = "pbkdf2_sha256$600000$salt$hashvalue"
# ok: python-hardcoded-password
admin_password = "5f4dcc3b5aa765d61d8327deb882cf99"


def tokens() -> None:
    # ruleid: python-platform-token
    github = "ghp_R8s2Kd93LmQp0ZxYv7TnW4bA1cE6fH5gJ2kL"
    # ruleid: python-platform-token
    headers = {"Authorization": "Bearer glpat-Xy8sK2mN4pQ7rT1vW3zA"}
    # ruleid: python-platform-token
    slack = "xoxb-2938475610-5647382910-AbCdEfGhIjKlMnOpQrStUvWx"
    # ruleid: python-platform-token
    maps = "AIzaSyD8r4Kq9LmN2pXv7TzW1bC5eF6gH3jK0lM"
    # ruleid: python-platform-token
    azure = "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNA==;EndpointSuffix=core.windows.net"
    # ok: python-platform-token
    placeholder = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    # ok: python-platform-token
    prefix = "ghp_"
    # ok: python-platform-token
    # an example in a comment: ghp_R8s2Kd93LmQp0ZxYv7TnW4bA1cE6fH5gJ2kL
    # ok: python-platform-token
    azure_env = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
    # ruleid: python-hardcoded-jwt
    bearer = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInJvbGUiOiJhZG1pbiJ9.lD7Ph3L4Dtx9nB2v8Qk1sWm6ZyXcA0r5TgHjKuVoPeE"
    # ok: python-hardcoded-jwt
    header_only = "eyJhbGciOiJIUzI1NiJ9"
    return github, headers, slack, maps, azure, placeholder, prefix, azure_env, bearer, header_only


def signing(payload, token) -> None:
    # ruleid: python-hardcoded-signing-key
    encoded = jwt.encode(payload, "secret", algorithm="HS256")
    # ruleid: python-hardcoded-signing-key
    claims = jwt.decode(token, key="s3cr3t", algorithms=["HS256"])
    # ruleid: python-hardcoded-signing-key
    serializer = URLSafeTimedSerializer("dev-key")
    # ruleid: python-hardcoded-signing-key
    mac = hmac.new(b"hmac-key", token, hashlib.sha256)
    # ok: python-hardcoded-signing-key
    encoded = jwt.encode(payload, os.environ["JWT_SECRET"], algorithm="HS256")
    # ok: python-hardcoded-signing-key
    claims = jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])
    # ok: python-hardcoded-signing-key
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"])
    # ok: python-hardcoded-signing-key
    data = json.decode(token, "utf-8")
    # ruleid: python-hardcoded-signing-key
    issued = jwt.encode(payload, JWT_SIGNING, algorithm="HS256")
    # ok: python-hardcoded-signing-key
    reported_where_assigned = jwt.decode(token, SECRET_COOKIE_KEY, algorithms=["HS256"])
    return encoded, claims, serializer, mac, data


def login(request, user) -> bool:
    password = request.form["password"]
    # ruleid: python-hardcoded-password
    if password == "admin123":
        return True
    # ruleid: python-hardcoded-password
    if request.form["password"] == "letmein!":
        return True
    # ruleid: python-hardcoded-password
    if user.password == "Sup3rS3cret":
        return True
    # ok: python-hardcoded-password
    if password == "":
        return False
    # ok: python-hardcoded-password
    if user.password_hash == "$2b$12$KIXQJ8l1XQ0Zq3l5h0y1UeY5JcE8uK2n3Ff6l0u9bq8b1l1z9Zc7e":
        return True
    # ok: python-hardcoded-password
    return bcrypt.checkpw(password.encode(), user.password_hash)


def sessions(app) -> None:
    # ruleid: python-hardcoded-signing-key
    aiohttp_session.setup(app, EncryptedCookieStorage(b"Thirty  two  length  bytes  key."))
    # ok: python-hardcoded-signing-key
    aiohttp_session.setup(app, EncryptedCookieStorage(base64.urlsafe_b64decode(os.environ["SESSION_KEY"])))


def audit(request, user, password, token, api_key) -> None:
    # ruleid: python-secret-in-log
    logger.info("login %s with %s", user.name, password)
    # ruleid: python-secret-in-log
    logging.debug(f"calling the API with key={api_key}")
    # ruleid: python-secret-in-log
    log.warning("reset for %s: %s", user.email, request.form["password"])
    # ok: python-secret-in-log
    logger.info("password changed for %s", user.name)
    # ok: python-secret-in-log
    logger.debug("unexpected token %r", token)
    # ok: python-secret-in-log
    logger.info("password length %d", len(password) > 8)
