import os
import shutil
import tarfile
import tempfile


def temp() -> None:
    # ruleid: python-tempfile-mktemp
    name = tempfile.mktemp(suffix=".txt")
    # ok: python-tempfile-mktemp
    fd, other = tempfile.mkstemp(suffix=".txt")
    return name, fd, other


def delete_user(user, target) -> None:
    # ruleid: python-assert-access-control
    assert user.is_admin, "admins only"
    # ruleid: python-assert-access-control
    assert user.has_perm("accounts.delete_user")
    # ruleid: python-assert-access-control
    assert can_delete(user, target)
    # ok: python-assert-access-control
    assert isinstance(target, str)
    # ok: python-assert-access-control
    assert target.name, "a name is required"
    if not user.is_admin:
        raise PermissionError("admins only")


def can_delete(user, target) -> bool:
    return user.id == target.owner_id


def unpack(path: str, dest: str) -> None:
    # ruleid: python-tarfile-extractall
    tarfile.open(path).extractall(dest)
    with tarfile.open(path) as tar:
        # ruleid: python-tarfile-extractall
        tar.extractall(dest)
        # ok: python-tarfile-extractall
        tar.extractall(dest, filter="data")
    archive = tarfile.open(path, "r:gz")
    # ruleid: python-tarfile-extractall
    archive.extract("member.txt", dest)
    # ok: python-tarfile-extractall
    archive.extract("member.txt", dest, filter="data")
    # ruleid: python-tarfile-extractall
    shutil.unpack_archive(path, dest)
    # ok: python-tarfile-extractall
    shutil.unpack_archive(path, dest, filter="data")


def perms(path: str) -> None:
    # ruleid: python-world-writable-permissions
    os.chmod(path, 0o777)
    # ruleid: python-world-writable-permissions
    os.makedirs(path, 0o757, exist_ok=True)
    # ok: python-world-writable-permissions
    os.chmod(path, 0o640)
    # ok: python-world-writable-permissions
    os.makedirs(path, 0o750, exist_ok=True)
