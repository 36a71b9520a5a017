"""Loaded by every Python process of a local training job when no network namespace is available
(lib/local/training-job.ts puts this directory on PYTHONPATH): connections and name lookups that leave this
machine fail as they would in a VPC without egress; loopback and Unix sockets work (the job's own rendezvous)."""

import errno
import ipaddress
import socket

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = {"localhost", "localhost.localdomain", socket.gethostname()}


def _is_local(host) -> bool:
    if host is None or host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _allowed(address) -> bool:
    return not isinstance(address, tuple) or _is_local(address[0])


def connect(self, address):
    if not _allowed(address):
        raise OSError(
            errno.ENETUNREACH,
            f"Network is unreachable (local job sandbox: {address[0]})",
        )
    return _connect(self, address)


def connect_ex(self, address):
    return _connect_ex(self, address) if _allowed(address) else errno.ENETUNREACH


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host.decode() if isinstance(host, bytes) else host):
        raise socket.gaierror(
            socket.EAI_AGAIN,
            f"Temporary failure in name resolution (local job sandbox: {host})",
        )
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
