import ftplib
import paramiko
import telnetlib
import socket
import ssl
import urllib.request

import httpx
import requests


def fetch(url: str) -> None:
    # ruleid: python-tls-verify-disabled
    requests.get(url, verify=False)
    # ruleid: python-tls-verify-disabled
    requests.post(url, data={}, verify=False, timeout=5)
    # ruleid: python-tls-verify-disabled
    httpx.Client(verify=False)
    # ruleid: python-tls-verify-disabled
    httpx.get(url, verify=False)
    session = requests.Session()
    # ruleid: python-tls-verify-disabled
    session.verify = False
    # ok: python-tls-verify-disabled
    requests.get(url, timeout=5)
    # ok: python-tls-verify-disabled
    requests.get(url, verify="/etc/ssl/certs/ca.pem")
    # ok: python-tls-verify-disabled
    httpx.Client(verify=True)


def contexts(host: str) -> None:
    # ruleid: python-ssl-unverified-context
    ctx = ssl._create_unverified_context()
    # ruleid: python-ssl-unverified-context
    ssl._create_default_https_context = ssl._create_unverified_context
    # ok: python-ssl-unverified-context
    good = ssl.create_default_context()
    urllib.request.urlopen("https://example.org", context=good)
    # ruleid: python-ssl-cert-none
    ctx.verify_mode = ssl.CERT_NONE
    # ruleid: python-ssl-cert-none
    ssl.wrap_socket(socket.socket(), cert_reqs=ssl.CERT_NONE)
    # ok: python-ssl-cert-none
    good.verify_mode = ssl.CERT_REQUIRED
    # ruleid: python-ssl-check-hostname-disabled
    ctx.check_hostname = False
    # ok: python-ssl-check-hostname-disabled
    good.check_hostname = True
    # ruleid: python-ssl-old-protocol
    old = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
    # ok: python-ssl-old-protocol
    new = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # ok: python-ssl-old-protocol
    new.minimum_version = ssl.TLSVersion.TLSv1_2
    return old


def ssh(host):
    client = paramiko.SSHClient()
    # ruleid: python-ssh-host-key-unverified
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    # ruleid: python-ssh-host-key-unverified
    client.set_missing_host_key_policy(paramiko.WarningPolicy)
    # ok: python-ssh-host-key-unverified
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    # ruleid: python-cleartext-protocol
    session = telnetlib.Telnet(host)
    # ruleid: python-cleartext-protocol
    ftp = ftplib.FTP(host)
    # ok: python-cleartext-protocol
    ftps = ftplib.FTP_TLS(host)
    return client, session, ftp, ftps
