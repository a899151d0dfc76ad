# Shared by the bench scripts (sourced): ports, a throwaway PostgreSQL, the
# five processes split, and wrk figures. Callers set WORK (a temp dir) and
# BIN (the atelier binary), and call `bench_cleanup` from their EXIT trap.

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort | tail -1)
AS=""
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mib() { echo $(( $(ps -o rss= -p "$1" | tr -d ' ') / 1024 )); }
# The part of a process's RSS that is its own (heap, stacks), not the shared
# binary's code pages that every process of that binary maps too.
private_mib() { awk '/^Anonymous:/ { printf "%d", $2 / 1024 }' "/proc/$1/smaps_rollup"; }
# CPU time (user + system, ended children included) of processes, in ms.
cpu_ms() {
  local ticks=0 p
  for p in "$@"; do ticks=$(( ticks + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0) )); done
  echo $(( ticks * 1000 / $(getconf CLK_TCK) ))
}
wait_ready() { until curl -sf "$1/readyz/dependencies" >/dev/null; do sleep 0.05; done; }

# A PostgreSQL cluster in $WORK/pg (with the server options in PG_OPTIONS):
# sets PGPORT and PSQL; `pg_url db` names a database.
start_postgres() {
  [ -n "$PGBIN" ] || { echo "PostgreSQL is not installed (apt install postgresql)"; exit 1; }
  chmod 755 "$WORK"
  if [ "$(id -u)" -eq 0 ]; then AS="runuser -u postgres --"; chown postgres "$WORK"; fi
  PGPORT=$(free_port)
  $AS "$PGBIN/initdb" -A trust -U postgres --no-sync -D "$WORK/pg" >/dev/null
  $AS "$PGBIN/pg_ctl" -w -s -D "$WORK/pg" -l "$WORK/pg.log" \
    -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTIONS:-}" start
  PSQL="psql -h 127.0.0.1 -p $PGPORT -U postgres -v ON_ERROR_STOP=1 -q"
}
# The PostgreSQL server's processes: the postmaster and its children.
pg_pids() { local pm; pm=$(head -1 "$WORK/pg/postmaster.pid"); echo "$pm" $(pgrep -P "$pm"); }
pg_url() { echo "postgres://postgres@127.0.0.1:$PGPORT/$1"; }

# The five roles as separate processes, each its own binary ($BIN-<role>, as
# the operator deploys them), on the databases <prefix>auth,
# <prefix>product, <prefix>cart and <prefix>order: sets PORT[role],
# PID[role] and GATEWAY (its URL). Needs the keys of `atelier keys` exported.
declare -A PORT PID
start_split() {
  local prefix=${1:-} r common
  for r in auth product cart order gateway; do PORT[$r]=$(free_port); done
  common="RUST_LOG=warn ATELIER_IDENTITY_VERIFYING_KEY=$ATELIER_IDENTITY_VERIFYING_KEY"
  env RUST_LOG=warn ATELIER_LISTEN=127.0.0.1:${PORT[auth]} ATELIER_DATABASE_URL="$(pg_url "${prefix}auth")" "$BIN-auth" & PID[auth]=$!
  env $common ATELIER_LISTEN=127.0.0.1:${PORT[product]} ATELIER_DATABASE_URL="$(pg_url "${prefix}product")" "$BIN-product" & PID[product]=$!
  env $common ATELIER_LISTEN=127.0.0.1:${PORT[cart]} ATELIER_DATABASE_URL="$(pg_url "${prefix}cart")" \
    ATELIER_PRODUCT_ADDR=127.0.0.1:${PORT[product]} "$BIN-cart" & PID[cart]=$!
  env $common ATELIER_LISTEN=127.0.0.1:${PORT[order]} ATELIER_DATABASE_URL="$(pg_url "${prefix}order")" \
    ATELIER_PRODUCT_ADDR=127.0.0.1:${PORT[product]} ATELIER_CART_ADDR=127.0.0.1:${PORT[cart]} \
    ATELIER_SERVICE_TOKEN="$ATELIER_SERVICE_TOKEN" "$BIN-order" & PID[order]=$!
  env RUST_LOG=warn ${PAGE_CACHE_OFF:+ATELIER_PAGE_CACHE_MS=0} ATELIER_LISTEN=127.0.0.1:${PORT[gateway]} \
    ATELIER_AUTH_ADDR=127.0.0.1:${PORT[auth]} ATELIER_PRODUCT_ADDR=127.0.0.1:${PORT[product]} \
    ATELIER_CART_ADDR=127.0.0.1:${PORT[cart]} ATELIER_ORDER_ADDR=127.0.0.1:${PORT[order]} \
    ATELIER_GATEWAY_TOKEN="$ATELIER_GATEWAY_TOKEN" "$BIN-gateway" & PID[gateway]=$!
  GATEWAY=http://127.0.0.1:${PORT[gateway]}
  wait_ready "$GATEWAY"
}
stop_split() {
  local r
  for r in gateway order cart product auth; do kill -TERM "${PID[$r]}" 2>/dev/null || true; done
  for r in gateway order cart product auth; do wait "${PID[$r]}" 2>/dev/null || true; done
}

bench_cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -d "$WORK/pg" ] && $AS "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}

# Figures of one wrk run: "requests/s p50-ms p99-ms non-2xx".
wrk_figures() {
  python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
def pct(p):
    v, u = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, t, re.M).groups()
    return float(v) / 1000 if u == "us" else float(v) * 1000 if u == "s" else float(v)
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(f"{rps:.0f} {pct(50):.2f} {pct(99):.2f} {errors.group(1) if errors else 0}")
PY
}
