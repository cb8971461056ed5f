import jwt
from jose import jwt as jose_jwt

SECRET = "from-the-environment"


def unverified(token):
    # ruleid: python-jwt-signature-not-verified
    claims = jwt.decode(token, verify=False)
    # ruleid: python-jwt-signature-not-verified
    claims = jwt.decode(token, options={"verify_signature": False})
    # ruleid: python-jwt-signature-not-verified
    claims = jose_jwt.decode(token, SECRET, options={"verify_signature": False, "verify_aud": False})
    options = {"verify_signature": False}
    # ruleid: python-jwt-signature-not-verified
    claims = jwt.decode(token, SECRET, options=options)
    # ruleid: python-jwt-signature-not-verified
    claims = jwt.decode(token, SECRET, algorithms=["HS256", "none"])
    # ruleid: python-jwt-signature-not-verified
    forged = jwt.encode(claims, None, algorithm="none")
    return forged


def verified(token):
    # ok: python-jwt-signature-not-verified
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    # ok: python-jwt-signature-not-verified
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
    # ok: python-jwt-signature-not-verified
    header = jwt.get_unverified_header(token)
    # ok: python-jwt-signature-not-verified
    data = json.decode(token, verify=False)
    return claims, header, data
