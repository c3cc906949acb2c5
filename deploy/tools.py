"""Small helpers of the loopback deployment (scripts/serve.sh), standard library only.

    python deploy/tools.py flags deploy/streamlit-production.toml
        One ``--section.key=value`` flag of ``streamlit run`` per line, for every key of the profile.
    python deploy/tools.py nginx --template deploy/nginx.conf.template --run-dir DIR --listen 127.0.0.1:8500 \\
            --replica 127.0.0.1:8510 --replica 127.0.0.1:8511 [--user root]
        The nginx.conf of this launch on stdout.
    python deploy/tools.py health URL [URL ...] [--timeout 2]
        Exit 0 if every URL answers 200 "ok" (Streamlit's /_stcore/health), else 1 naming those that do not.
    python deploy/tools.py check URL [URL ...] [--timeout 5]
        Check every URL at once (one thread each, so one hung replica does not delay the others) and print one
        word per URL, in order: "ok" or "fail". Always exits 0 within about --timeout seconds.
    python deploy/tools.py wait URL [URL ...] --timeout 90 [--pid PID ...]
        Poll until every URL is healthy (exit 0), a PID has exited (exit 3) or the timeout passes (exit 2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

#: Keys that must never become CLI flags (Streamlit refuses them; they come from the environment).
SENSITIVE = {"server.cookieSecret"}
POLL_SECONDS = 0.25


def _flatten(table: dict, prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.extend(_flatten(value, name))
        else:
            out.append((name, value))
    return out


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"cannot pass {value!r} as a flag")


def profile_flags(path: str | Path) -> list[str]:
    """Every key of a Streamlit config TOML as ``--section.key=value`` (lists repeat the flag)."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    flags = []
    for name, value in _flatten(data):
        if name in SENSITIVE:
            raise ValueError(f"{name} must not be in the profile: set STREAMLIT_SERVER_COOKIE_SECRET instead")
        values = value if isinstance(value, list) else [value]
        flags.extend(f"--{name}={_flag_value(v)}" for v in values)
    return flags


#: Passive health check of every upstream server (nginx OSS): one failure (refused, timed out, 502/503)
#: takes a server out for FAIL_TIMEOUT, after which nginx tries it again with one request.
FAIL_TIMEOUT = "3s"


def route_name(index: int) -> str:
    """The value of the route cookie ``sgeroute`` that sends a browser to replica ``index`` (0-based)."""
    return f"r{index}"


def render_nginx(template: str, run_dir: str, listen: str, replicas: list[str], user: str | None) -> str:
    """Fill the placeholders of deploy/nginx.conf.template."""
    if not replicas:
        raise ValueError("at least one --replica is needed")
    if len(set(replicas)) != len(replicas):
        raise ValueError(f"replica addresses must differ: {replicas}")
    health = f"max_fails=1 fail_timeout={FAIL_TIMEOUT}"
    ind = " " * 8
    servers = f"\n{ind}".join(f"server {r} {health};" for r in replicas)
    blocks = []
    for i, r in enumerate(replicas):
        lines = [f"server {r} {health};"] + [f"server {o} {health} backup;" for o in replicas if o != r]
        body = "".join(f"\n{ind}{line}" for line in [*lines, "keepalive 16;"])
        blocks.append(f"upstream sge_{route_name(i)} {{{body}\n{ind[:4]}}}")
    route_map = f"\n{ind}".join(f"{route_name(i)} sge_{route_name(i)};" for i in range(len(replicas)))
    # $upstream_addr lists every address tried ("a, b"); the last one answered
    served_map = f"\n{ind}".join(f"~(^|\\s){re.escape(r)}$ {route_name(i)};" for i, r in enumerate(replicas))
    fills = {
        "@RUN_DIR@": run_dir,
        "@LISTEN@": listen,
        "@UPSTREAM_SERVERS@": servers,
        "@REPLICA_UPSTREAMS@": f"\n\n{ind[:4]}".join(blocks),
        "@ROUTE_MAP@": route_map,
        "@SERVED_MAP@": served_map,
        "@USER_LINE@": f"user {user};" if user else "# (not root: nginx runs as the current user)",
    }
    text = template
    for token, value in fills.items():
        text = text.replace(token, value)
    left = sorted(set(re.findall(r"@[A-Z_]+@", text)))
    if left:
        raise ValueError(f"unfilled placeholders: {left}")
    return text


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True if ``url`` answers 200 with the body "ok"."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200 and resp.read(64).decode(errors="replace").strip() == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def check_all(urls: list[str], timeout: float) -> list[bool]:
    """``healthy(url)`` for every URL concurrently; bounded by ``timeout`` (a URL still pending then fails)."""
    results = [False] * len(urls)

    def one(i: int) -> None:
        results[i] = healthy(urls[i], timeout=timeout)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(urls))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout + 1.0
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [ok and not t.is_alive() for ok, t in zip(results, threads, strict=True)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped by its parent) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_healthy(urls: list[str], timeout: float, pids: list[int]) -> int:
    """0 when all healthy, 2 on timeout, 3 when a process died; bounded in time and in polls."""
    deadline = time.monotonic() + timeout
    pending = list(urls)
    for _ in range(int(timeout / POLL_SECONDS) + 2):
        pending = [u for u in pending if not healthy(u, timeout=min(2.0, max(0.2, deadline - time.monotonic())))]
        if not pending:
            return 0
        dead = [p for p in pids if not _alive(p)]
        if dead:
            print(f"process(es) {dead} exited before {pending} became healthy", file=sys.stderr)
            return 3
        if time.monotonic() > deadline:
            break
        time.sleep(POLL_SECONDS)
    print(f"not healthy after {timeout:.0f} s: {' '.join(pending)}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("flags", help="streamlit run flags of a config profile, one per line")
    p.add_argument("profile")
    p.add_argument("--json", action="store_true", help="a JSON list instead of lines")
    p = sub.add_parser("nginx", help="render the nginx config of a launch")
    p.add_argument("--template", required=True)
    p.add_argument("--run-dir", required=True)
    p.add_argument("--listen", required=True)
    p.add_argument("--replica", action="append", default=[])
    p.add_argument("--user", default=None)
    p = sub.add_parser("health", help="check URLs once")
    p.add_argument("urls", nargs="+")
    p.add_argument("--timeout", type=float, default=2.0)
    p = sub.add_parser("check", help="check URLs at once, print ok/fail per URL")
    p.add_argument("urls", nargs="+")
    p.add_argument("--timeout", type=float, default=5.0)
    p = sub.add_parser("wait", help="wait until URLs are healthy")
    p.add_argument("urls", nargs="+")
    p.add_argument("--timeout", type=float, default=90.0)
    p.add_argument("--pid", type=int, action="append", default=[])
    args = parser.parse_args(argv)

    if args.cmd == "flags":
        flags = profile_flags(args.profile)
        print(json.dumps(flags) if args.json else "\n".join(flags))
        return 0
    if args.cmd == "nginx":
        sys.stdout.write(render_nginx(Path(args.template).read_text(), args.run_dir, args.listen, args.replica,
                                      args.user))
        return 0
    if args.cmd == "health":
        bad = [u for u in args.urls if not healthy(u, args.timeout)]
        for u in bad:
            print(f"unhealthy: {u}", file=sys.stderr)
        return 1 if bad else 0
    if args.cmd == "check":
        print(" ".join("ok" if ok else "fail" for ok in check_all(args.urls, args.timeout)))
        return 0
    return wait_healthy(args.urls, args.timeout, args.pid)


if __name__ == "__main__":
    sys.exit(main())
