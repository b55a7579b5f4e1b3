"""Start-up guard shared by manage.py, the WSGI server and the Celery worker.

Configuration comes only from the environment, and a mistake there should stop the process
with one line that names the variable and the fix, not with a traceback.
"""
import os
import sys

from django.core.exceptions import ImproperlyConfigured


def load_settings_or_exit(argv: list[str] | None = None) -> None:
    """Import the settings now; on a configuration error print one line and exit with code 2 (3 in a
    gunicorn worker). ARGV (default sys.argv) is the command line, checked for a debug server bound
    beyond loopback."""
    argv = sys.argv if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appliance.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 -- touching a setting imports the module
        if settings.DEBUG:
            refuse_debug_beyond_loopback(argv)
    except ImproperlyConfigured as error:
        print(f"appliance: configuration error: {error}", file=sys.stderr)
        # 3 is gunicorn's "worker failed to boot": the server stops instead of restarting the worker for ever.
        raise SystemExit(3 if is_gunicorn(argv) else 2) from None


def is_gunicorn(argv: list[str]) -> bool:
    return bool(argv) and "gunicorn" in os.path.basename(argv[0])


def refuse_debug_beyond_loopback(argv: list[str]) -> None:
    """settings.py checks APPLIANCE_HOST and ALLOWED_HOSTS; this checks the address the server
    itself is told to bind: gunicorn's --bind/-b, or runserver's ADDRPORT. Raises ImproperlyConfigured."""
    from appliance.settings import is_loopback

    for address in bound_addresses(argv):
        host = host_of(address)
        if host is not None and not is_loopback(host):
            raise ImproperlyConfigured(
                f"DEBUG=1 is refused with the server bound to {address}: debug pages show settings and paths to "
                "anyone who can reach the server; unset DEBUG, or serve on 127.0.0.1 only"
            )


def host_of(address: str) -> str | None:
    """The host of a bind ADDRESS ("0.0.0.0:8000", "[::1]:8000", "::", "localhost"); None for a port
    alone (runserver then binds 127.0.0.1) or a Unix socket."""
    if address.startswith(("unix:", "fd://")) or address.isdigit():
        return None
    if address.startswith("["):
        return address[1:address.find("]")]
    if address.count(":") > 1:  # a bare IPv6 address
        return address
    return address.split(":")[0]


def bound_addresses(argv: list[str]) -> list[str]:
    """The addresses ARGV tells gunicorn (--bind/-b, repeatable) or runserver (its ADDRPORT) to serve on."""
    program = os.path.basename(argv[0]) if argv else ""
    if program == "manage.py" and len(argv) > 1 and argv[1] == "runserver":
        positional = [arg for arg in argv[2:] if not arg.startswith("-")]
        return positional[:1]
    if is_gunicorn(argv):
        addresses = []
        for index, arg in enumerate(argv):
            if arg in ("--bind", "-b") and index + 1 < len(argv):
                addresses.append(argv[index + 1])
            elif arg.startswith("--bind="):
                addresses.append(arg.removeprefix("--bind="))
            elif arg.startswith("-b") and len(arg) > 2:
                addresses.append(arg[2:])
        return addresses
    return []
