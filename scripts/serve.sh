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
#   SGE_CHECK_INTERVAL=5       seconds between health checks while serving (all replicas at once)
#   SGE_CHECK_TIMEOUT=5        seconds a replica may take to answer one check (a busy replica answers late)
#   SGE_UNHEALTHY_CHECKS=3     failed checks in a row after which a replica whose process still runs (hung,
#                              stopped, deadlocked, swamped) is killed (TERM, KILL after SGE_KILL_GRACE=5 s)
#                              and restarted: about 3 x (5 + 5) = 30 s of sustained failure by default, the
#                              same window as the Kubernetes liveness probe (deploy/k8s/deployment.yaml)
#   SGE_MAX_RESTARTS=5         restarts per replica (after an exit or sustained failed checks); one more
#                              failure then stops serve.sh with exit status 1
#   STREAMLIT_SERVER_COOKIE_SECRET  shared by all replicas; generated once per launch when unset
# Every replica gets SGE_REPLICAS=N in its environment (sgapp/admission.py divides the CPU quota by it).
# Prints "SGE_READY <url>" once every replica and the proxy are healthy; "SGE_RESTARTED <i> <reason>" after
# each restart of replica i and "SGE_HEALTHY <i> <seconds>" once the restarted replica answers again.
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
CHECK_TIMEOUT="${SGE_CHECK_TIMEOUT:-5}"
UNHEALTHY_CHECKS="${SGE_UNHEALTHY_CHECKS:-3}"
KILL_GRACE="${SGE_KILL_GRACE:-5}"
MAX_RESTARTS="${SGE_MAX_RESTARTS:-5}"
for v in UNHEALTHY_CHECKS KILL_GRACE MAX_RESTARTS STARTUP_TIMEOUT; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]] || { [ "$v" != MAX_RESTARTS ] && [ "${!v}" -lt 1 ]; }; then
        echo "SGE_$v must be a whole number (>= 1; SGE_MAX_RESTARTS >= 0); got '${!v}'" >&2
        exit 2
    fi
done
for v in CHECK_INTERVAL CHECK_TIMEOUT; do
    if ! [[ "${!v}" =~ ^[0-9]*\.?[0-9]+$ ]]; then
        echo "SGE_$v must be a number of seconds; got '${!v}'" >&2
        exit 2
    fi
done
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
# The replicas' training admission divides the CPU quota it sees by the number of replicas sharing it.
export SGE_REPLICAS="$N"

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

stop_pid() {  # pid [grace seconds, default 10]: TERM (and CONT, so a stopped process can act on it), bounded polls, KILL
    local pid="$1" grace="${2:-10}" i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    kill -CONT "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
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

# --- health checks while serving ---------------------------------------------------------------------
# Every CHECK_INTERVAL seconds all replicas are checked at once (deploy/tools.py check, each answer bounded by
# CHECK_TIMEOUT, so a hung replica delays nobody). A replica is restarted when its process exited, or when it
# failed UNHEALTHY_CHECKS checks in a row although its process lives. A restarted replica has STARTUP_TIMEOUT
# seconds to answer before its failed checks count; the loop never waits for it, so the others stay watched.
# nginx stops sending new sessions to a replica that refuses or times out (max_fails/fail_timeout in
# deploy/tools.py) and takes it back once it answers again (deploy/nginx.conf.template).
declare -a FAILS=() STATE=() STARTED=()
for ((i = 0; i < N; i++)); do FAILS[i]=0; STATE[i]=up; STARTED[i]=$SECONDS; done

restart_replica() {  # index reason
    local i="$1" reason="$2"
    if [ "${RESTARTS[$i]}" -ge "$MAX_RESTARTS" ]; then
        echo "replica $i (port ${REPLICA_PORTS[$i]}) $reason after $MAX_RESTARTS restarts; stopping" >&2
        exit 1
    fi
    RESTARTS[i]=$((RESTARTS[i] + 1))
    echo "replica $i (port ${REPLICA_PORTS[$i]}) $reason; restart ${RESTARTS[$i]}/$MAX_RESTARTS" >&2
    start_replica "$i"
    FAILS[i]=0
    STATE[i]=starting
    STARTED[i]=$SECONDS
    echo "SGE_RESTARTED $i $reason"
}

START=$SECONDS
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
    RESULTS=()
    if in_bg "$PY" deploy/tools.py check "${HEALTH_URLS[@]}" --timeout "$CHECK_TIMEOUT" > "$RUN/check.out" 2>/dev/null; then
        read -r -a RESULTS < "$RUN/check.out" || true
    fi
    if [ "${#RESULTS[@]}" -ne "$N" ]; then
        # not one word per replica: the checker itself failed; judge no replica on it (exits still count)
        echo "health check produced no result this round (${#RESULTS[@]} of $N)" >&2
        RESULTS=()
    fi
    for ((i = 0; i < N; i++)); do
        if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
            wait "${PIDS[$i]}" 2>/dev/null || true
            restart_replica "$i" "exited"
            continue
        fi
        [ "${#RESULTS[@]}" -eq "$N" ] || continue
        if [ "${RESULTS[$i]}" = ok ]; then
            if [ "${STATE[$i]}" = starting ]; then
                echo "SGE_HEALTHY $i $((SECONDS - STARTED[i]))"
                echo "replica $i (port ${REPLICA_PORTS[$i]}) healthy again $((SECONDS - STARTED[i])) s after its restart"
            elif [ "${FAILS[$i]}" -gt 0 ]; then
                echo "replica $i (port ${REPLICA_PORTS[$i]}) answers again after ${FAILS[$i]} failed check(s)" >&2
            fi
            STATE[i]=up
            FAILS[i]=0
        elif [ "${STATE[$i]}" = starting ]; then
            if [ $((SECONDS - STARTED[i])) -ge "$STARTUP_TIMEOUT" ]; then
                stop_pid "${PIDS[$i]}" "$KILL_GRACE"
                restart_replica "$i" "was not healthy $STARTUP_TIMEOUT s after its restart"
            fi
        else
            FAILS[i]=$((FAILS[i] + 1))
            echo "replica $i (port ${REPLICA_PORTS[$i]}) failed its health check ${FAILS[$i]}/$UNHEALTHY_CHECKS time(s) in a row" >&2
            if [ "${FAILS[$i]}" -ge "$UNHEALTHY_CHECKS" ]; then
                echo "replica $i (pid ${PIDS[$i]}) runs but failed $UNHEALTHY_CHECKS health checks in a row; killing it" >&2
                tail -n 5 "$RUN/logs/replica-$i.log" >&2 || true
                stop_pid "${PIDS[$i]}" "$KILL_GRACE"
                restart_replica "$i" "was unhealthy for $UNHEALTHY_CHECKS checks"
            fi
        fi
    done
done
