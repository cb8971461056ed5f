import asyncio
import os
import shlex
import subprocess


def shell(host: str) -> None:
    # ruleid: python-subprocess-shell-injection
    subprocess.run("ping -c 1 " + host, shell=True)
    # ruleid: python-subprocess-shell-injection
    subprocess.check_output(f"nslookup {host}", shell=True)
    cmd = "dig " + host
    # ruleid: python-subprocess-shell-injection
    subprocess.Popen(cmd, shell=True)
    # ok: python-subprocess-shell-injection
    subprocess.run("ls -l /tmp", shell=True)
    # ok: python-subprocess-shell-injection
    subprocess.run("ping -c 1 " + shlex.quote(host), shell=True)
    # ok: python-subprocess-shell-injection
    subprocess.run(shlex.join(["ping", "-c", "1", host]), shell=True)
    # ok: python-subprocess-shell-injection
    subprocess.run(["ping", "-c", "1", host])
    # ok: python-subprocess-shell-injection
    subprocess.run(["ping", "-c", "1", host], shell=False)


def system(path: str) -> None:
    # ruleid: python-os-command-injection
    os.system("rm -rf " + path)
    # ruleid: python-os-command-injection
    os.popen(f"cat {path}")
    # ok: python-os-command-injection
    os.system("uptime")
    # ok: python-os-command-injection
    os.system("tar xf " + shlex.quote(path))
    # ok: python-os-command-injection
    os.popen("date")
    # ruleid: python-os-command-injection
    subprocess.getoutput("ls " + path)
    # ok: python-os-command-injection
    subprocess.getoutput("ls /tmp")


async def shell_async(host: str) -> None:
    # ruleid: python-os-command-injection
    await asyncio.create_subprocess_shell(f"ping -c 1 {host}")
    # ok: python-os-command-injection
    await asyncio.create_subprocess_shell("uptime")


def exec_shell(arg: str) -> None:
    # ruleid: python-os-exec-injection
    os.execl("/bin/sh", "/bin/sh", "-c", "echo " + arg)
    # ruleid: python-os-exec-injection
    os.spawnv(os.P_WAIT, "/bin/bash", ["/bin/bash", "-c", arg])
    # ok: python-os-exec-injection
    os.execl("/bin/sh", "/bin/sh", "-c", "echo hello")
    # ok: python-os-exec-injection
    os.execv("/usr/bin/ls", ["/usr/bin/ls", arg])


def dynamic(expr: str, code: str) -> None:
    # ruleid: python-eval-injection
    eval(expr)
    # ruleid: python-eval-injection
    eval("1 + " + expr)
    # ok: python-eval-injection
    eval("1 + 2")
    # ruleid: python-exec-injection
    exec(code)
    # ruleid: python-exec-injection
    exec(code, {"__builtins__": {}})
    # ok: python-exec-injection
    exec("x = 1")
