#!/usr/bin/env bash
# Loopback deployment of the app for a lab course: N Streamlit replicas (default: one per core) with the
# production profile (deploy/streamlit-production.toml), behind Debian's nginx with sticky sessions.
#
#   bash scripts/serve.sh [N]          -> http://127.0.0.1:8500 ; Ctrl-C (or SIGTERM) stops everything
#
# Environment (all optional):
#   SGE_HOST=127.0.0.1         address nginx and the replicas listen on (use 0.0.0.0 to serve a classroom LAN)
#   SGE_PORT=8500              nginx's port
#   SGE_REPLICA_PORTS="p1 p2"  replica ports (default: SGE_REPLICA_BASE_PORT, +1, ...; base 8510)
#   SGE_RUN_DIR=DIR            config, logs, pids (default: a new temp dir, removed at exit unless
#                              SGE_KEEP_RUN_DIR=1; a given SGE_RUN_DIR is kept)
#   SGE_PYTHON=PATH            Python with the requirements (default: .venv/bin/python, created as start.sh does)
#   SGE_STARTUP_TIMEOUT=120    seconds to wait for every replica and the proxy to answer /_stcore/health
#   SGE_SERVE_SECONDS=0        stop by itself after this many seconds (0: run until Ctrl-C / SIGTERM)
#   SGE_CHECK_INTERVAL=5       seconds between health checks while serving (a dead replica is restarted,
#                              at most SGE_MAX_RESTARTS=5 times each)
#   STREAMLIT_SERVER_COOKIE_SECRET  shared by all replicas; generated once per launch when unset
# Prints "SGE_READY <url>" once every replica and the proxy are healthy.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"

N="${1:-${SGE_REPLICAS:-$(nproc 2>/dev/null || echo 1)}}"
if ! [[ "$N" =~ ^[1-9][0-9]*$ ]] || [ "$N" -gt 64 ]; then
    echo "usage: scripts/serve.sh [N]  (N = number of replicas, 1..64; got '$N')" >&2
    exit 2
fi
HOST="${SGE_HOST:-127.0.0.1}"
PORT="${SGE_PORT:-8500}"
BASE_PORT="${SGE_REPLICA_BASE_PORT:-8510}"
STARTUP_TIMEOUT="${SGE_STARTUP_TIMEOUT:-120}"
SERVE_SECONDS="${SGE_SERVE_SECONDS:-0}"
CHECK_INTERVAL="${SGE_CHECK_INTERVAL:-5}"
MAX_RESTARTS="${SGE_MAX_RESTARTS:-5}"
PROFILE="$REPO/deploy/streamlit-production.toml"
TEMPLATE="$REPO/deploy/nginx.conf.template"
PROBE_HOST="$HOST"
if [ "$PROBE_HOST" = "0.0.0.0" ]; then PROBE_HOST=127.0.0.1; fi

read -r -a REPLICA_PORTS <<< "${SGE_REPLICA_PORTS:-}"
if [ "${#REPLICA_PORTS[@]}" -eq 0 ]; then
    for ((i = 0; i < N; i++)); do REPLICA_PORTS+=("$((BASE_PORT + i))"); done
elif [ "${#REPLICA_PORTS[@]}" -ne "$N" ]; then
    echo "SGE_REPLICA_PORTS has ${#REPLICA_PORTS[@]} ports for $N replicas" >&2
    exit 2
fi

# --- nginx (Debian's package; installed like scripts/test.sh installs chromium) ---------------------
find_nginx() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }
NGINX="$(find_nginx)"
if [ -z "$NGINX" ]; then
    echo "Installing Debian's nginx for the loopback deployment..."
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
    NGINX="$(find_nginx)"
    [ -n "$NGINX" ] || { echo "nginx is still missing after apt-get install" >&2; exit 1; }
fi

# --- Python with the pinned requirements (as scripts/start.sh) ---------------------------------------
PY="${SGE_PYTHON:-}"
if [ -z "$PY" ]; then
    if [ ! -x .venv/bin/python ]; then "${PYTHON:-python3}" -m venv .venv; fi
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
    PY="$REPO/.venv/bin/python"
fi

port_busy() { (exec 3<>"/dev/tcp/$PROBE_HOST/$1") 2>/dev/null; }
for p in "$PORT" "${REPLICA_PORTS[@]}"; do
    if port_busy "$p"; then echo "port $p on $PROBE_HOST is already in use" >&2; exit 1; fi
done

# --- run directory ----------------------------------------------------------------------------------
KEEP_RUN_DIR="${SGE_KEEP_RUN_DIR:-0}"
if [ -n "${SGE_RUN_DIR:-}" ]; then
    RUN="$SGE_RUN_DIR"
    KEEP_RUN_DIR=1
    mkdir -p "$RUN"
else
    RUN="$(mktemp -d "${TMPDIR:-/tmp}/sge-serve.XXXXXX")"
fi
RUN="$(cd "$RUN" && pwd)"
mkdir -p "$RUN/logs" "$RUN/tmp"
: > "$RUN/replicas.tsv"

# One secret for every replica (signed cookies must verify on any of them); never written to disk.
if [ -z "${STREAMLIT_SERVER_COOKIE_SECRET:-}" ]; then
    STREAMLIT_SERVER_COOKIE_SECRET="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
fi
export STREAMLIT_SERVER_COOKIE_SECRET
# One torch/BLAS thread per process: N processes share N cores without oversubscription.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1
export PYTHONUNBUFFERED=1

mapfile -t PROFILE_FLAGS < <("$PY" deploy/tools.py flags "$PROFILE")
[ "${#PROFILE_FLAGS[@]}" -gt 0 ] || { echo "could not read $PROFILE" >&2; exit 1; }

declare -a PIDS=()
declare -a RESTARTS=()
NGINX_PID=""
CHILD_PID=""
STOPPING=0

in_bg() {  # run a bounded helper in the background and wait for it, so that signals are handled at once
    "$@" &
    CHILD_PID=$!
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

stop_pid() {  # TERM, wait up to 10 s (bounded polls), then KILL
    local pid="$1" i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    [ "$STOPPING" = 1 ] && return
    STOPPING=1
    trap '' INT TERM HUP
    if [ -n "$CHILD_PID" ]; then kill -TERM "$CHILD_PID" 2>/dev/null || true; fi
    echo "Stopping nginx and ${#PIDS[@]} replica(s)..."
    stop_pid "$NGINX_PID"
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [ "$KEEP_RUN_DIR" = 1 ]; then
        echo "Logs kept in $RUN"
    else
        rm -rf "$RUN"
    fi
    echo "Stopped."
    exit "$rc"
}
trap cleanup EXIT
# A requested stop (Ctrl-C, SIGTERM, SIGHUP) is a clean shutdown: exit 0 after cleanup.
trap 'exit 0' INT TERM HUP

start_replica() {  # index
    local i="$1" port="${REPLICA_PORTS[$1]}"
    # deploy/replica.py imports the heavy libraries before `streamlit run` starts serving (see its docstring)
    "$PY" deploy/replica.py app.py "${PROFILE_FLAGS[@]}" \
        --server.address="$HOST" --server.port="$port" \
        >> "$RUN/logs/replica-$i.log" 2>&1 < /dev/null &
    PIDS[i]=$!
    echo "$i $port ${PIDS[$i]}" >> "$RUN/replicas.tsv"
}

echo "Starting $N replica(s) on $HOST:${REPLICA_PORTS[*]} (run dir $RUN)"
HEALTH_URLS=()
UPSTREAMS=()
for ((i = 0; i < N; i++)); do
    RESTARTS[i]=0
    start_replica "$i"
    HEALTH_URLS+=("http://$PROBE_HOST:${REPLICA_PORTS[$i]}/_stcore/health")
    UPSTREAMS+=(--replica "$PROBE_HOST:${REPLICA_PORTS[$i]}")
done
PID_ARGS=()
for pid in "${PIDS[@]}"; do PID_ARGS+=(--pid "$pid"); done
if ! in_bg "$PY" deploy/tools.py wait "${HEALTH_URLS[@]}" --timeout "$STARTUP_TIMEOUT" "${PID_ARGS[@]}"; then
    echo "A replica did not become healthy; last lines of its logs:" >&2
    for ((i = 0; i < N; i++)); do tail -n 20 "$RUN/logs/replica-$i.log" >&2 || true; done
    exit 1
fi

USER_ARGS=()
if [ "$(id -u)" = "0" ]; then USER_ARGS=(--user "root"); fi
"$PY" deploy/tools.py nginx --template "$TEMPLATE" --run-dir "$RUN" --listen "$HOST:$PORT" \
    "${UPSTREAMS[@]}" "${USER_ARGS[@]}" > "$RUN/nginx.conf"
"$NGINX" -t -q -p "$RUN" -e "$RUN/logs/error.log" -c "$RUN/nginx.conf" \
    || { cat "$RUN/logs/error.log" >&2; exit 1; }
"$NGINX" -p "$RUN" -e "$RUN/logs/error.log" -c "$RUN/nginx.conf" -g 'daemon off;' \
    >> "$RUN/logs/nginx.out" 2>&1 < /dev/null &
NGINX_PID=$!
PROXY_URL="http://$PROBE_HOST:$PORT"
if ! in_bg "$PY" deploy/tools.py wait "$PROXY_URL/_stcore/health" --timeout 30 --pid "$NGINX_PID" "${PID_ARGS[@]}"; then
    cat "$RUN/logs/error.log" "$RUN/logs/nginx.out" >&2 || true
    exit 1
fi

echo "SGE_READY $PROXY_URL"
echo "Serving $N replica(s) behind nginx at $PROXY_URL  (Ctrl-C stops everything)"

# --- explicit health checks while serving -------------------------------------------------------------
START=$SECONDS
declare -a FAILS=()
for ((i = 0; i < N; i++)); do FAILS[i]=0; done
while :; do
    if [ "$SERVE_SECONDS" != 0 ] && [ $((SECONDS - START)) -ge "$SERVE_SECONDS" ]; then
        echo "SGE_SERVE_SECONDS=$SERVE_SECONDS reached"
        exit 0
    fi
    in_bg sleep "$CHECK_INTERVAL" || true
    if ! kill -0 "$NGINX_PID" 2>/dev/null; then
        echo "nginx exited; stopping" >&2
        tail -n 20 "$RUN/logs/error.log" >&2 || true
        exit 1
    fi
    for ((i = 0; i < N; i++)); do
        if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
            wait "${PIDS[$i]}" 2>/dev/null || true
            if [ "${RESTARTS[$i]}" -ge "$MAX_RESTARTS" ]; then
                echo "replica $i died $MAX_RESTARTS times; stopping" >&2
                exit 1
            fi
            RESTARTS[i]=$((RESTARTS[i] + 1))
            echo "replica $i (port ${REPLICA_PORTS[$i]}) exited; restart ${RESTARTS[$i]}/$MAX_RESTARTS" >&2
            start_replica "$i"
            in_bg "$PY" deploy/tools.py wait "${HEALTH_URLS[$i]}" --timeout "$STARTUP_TIMEOUT" --pid "${PIDS[$i]}" || true
        elif in_bg "$PY" deploy/tools.py health "${HEALTH_URLS[$i]}" --timeout 5 2>/dev/null; then
            FAILS[i]=0
        else
            FAILS[i]=$((FAILS[i] + 1))
            echo "replica $i (port ${REPLICA_PORTS[$i]}) failed its health check ${FAILS[$i]} time(s) in a row" >&2
        fi
    done
done
