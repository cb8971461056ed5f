import hashlib
import random
import string
import secrets

from Crypto.Cipher import AES, ARC4, DES, Blowfish
from Crypto.PublicKey import RSA
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def hashes(password: str, data: bytes) -> None:
    # ruleid: python-weak-hash-md5
    hashlib.md5(password.encode()).hexdigest()
    # ruleid: python-weak-hash-md5
    hashlib.new("md5", data)
    # ok: python-weak-hash-md5
    hashlib.md5(data, usedforsecurity=False)
    # ok: python-weak-hash-md5
    hashlib.sha256(data)
    # ruleid: python-weak-hash-sha1
    hashlib.sha1(password.encode())
    # ruleid: python-weak-hash-sha1
    hashlib.new("sha1")
    # ok: python-weak-hash-sha1
    hashlib.sha512(data)
    # ok: python-weak-hash-sha1
    hashlib.sha1(data, usedforsecurity=False)


def ciphers(key: bytes, iv: bytes) -> None:
    # ruleid: python-weak-cipher
    DES.new(key, DES.MODE_CBC, iv)
    # ruleid: python-weak-cipher
    ARC4.new(key)
    # ruleid: python-weak-cipher
    Blowfish.new(key, Blowfish.MODE_CBC, iv)
    # ruleid: python-weak-cipher
    Cipher(algorithms.TripleDES(key), modes.CBC(iv))
    # ok: python-weak-cipher
    Cipher(algorithms.AES(key), modes.GCM(iv))
    # ok: python-weak-cipher
    AES.new(key, AES.MODE_GCM)


def ecb(key: bytes) -> None:
    # ruleid: python-ecb-mode
    AES.new(key, AES.MODE_ECB)
    # ruleid: python-ecb-mode
    Cipher(algorithms.AES(key), modes.ECB())
    # ok: python-ecb-mode
    AES.new(key, AES.MODE_GCM)
    # ok: python-ecb-mode
    Cipher(algorithms.AES(key), modes.CTR(key))


class Session:
    def __init__(self) -> None:
        # ruleid: python-insecure-random-token
        self.session_id = "%032x" % random.getrandbits(128)
        # ok: python-insecure-random-token
        self.csrf_token = secrets.token_hex(16)


def tokens() -> None:
    # ruleid: python-insecure-random-token
    reset_token = "".join(random.choice("abcdef0123456789") for _ in range(32))
    # ruleid: python-insecure-random-token
    password = str(random.randint(100000, 999999))
    # ok: python-insecure-random-token
    api_key = secrets.token_urlsafe(32)
    # ruleid: python-insecure-random-token
    code = str(random.randint(100000, 999999))
    # ruleid: python-insecure-random-token
    verification_code = random.randrange(10**6)
    # ok: python-insecure-random-token
    status_code = random.choice([200, 503])
    # ok: python-insecure-random-token
    delay = random.uniform(0.1, 0.5)
    # ok: python-insecure-random-token
    sample = random.sample(range(100), 10)
    return reset_token, password, api_key, delay, sample


def make_otp() -> str:
    # ruleid: python-insecure-random-token
    return str(random.randint(0, 999999)).zfill(6)


QUOTES = ["a", "b", "c"]


def gentckt() -> str:
    # ruleid: python-insecure-random-token
    return "".join(random.choices(string.ascii_uppercase + string.digits, k=10))


def session_header() -> str:
    # ruleid: python-insecure-random-token
    return "SESSIONID=%s" % "".join(random.sample(string.ascii_letters + string.digits, 20))


def strong_ticket() -> str:
    # ok: python-insecure-random-token
    return "".join(secrets.choice(string.ascii_letters) for _ in range(20))


def pick_quotes() -> str:
    # ok: python-insecure-random-token
    return ", ".join(random.sample(QUOTES, 2))


def jitter() -> float:
    # ok: python-insecure-random-token
    return random.random()


def keys() -> None:
    # ruleid: python-weak-rsa-key
    rsa.generate_private_key(public_exponent=65537, key_size=1024)
    # ok: python-weak-rsa-key
    rsa.generate_private_key(public_exponent=65537, key_size=3072)
    # ruleid: python-weak-rsa-key
    RSA.generate(1024)
    # ok: python-weak-rsa-key
    RSA.generate(4096)


def store_password(user, password: str, salt: bytes) -> None:
    # ruleid: python-weak-password-hash
    user.password = hashlib.sha256(password.encode()).hexdigest()
    # ruleid: python-weak-password-hash
    user.password = hashlib.new("sha512", user.password.encode()).hexdigest()
    # ruleid: python-weak-password-hash
    digest = hashlib.sha512(request.form["password"].encode()).hexdigest()
    # ok: python-weak-password-hash
    user.password = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000).hex()
    # ok: python-weak-password-hash
    user.etag = hashlib.sha256(user.name.encode()).hexdigest()


# ruleid: python-weak-password-hash
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# ok: python-weak-password-hash
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
