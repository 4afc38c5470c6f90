#!/bin/sh
# The side-by-side run of issue 16: Usher, Ory Hydra and Dex, each built from
# source, each on its own fresh PostgreSQL database on 127.0.0.1:5432 (user
# postgres, trust auth), driven by the same wrk scenarios. Prints a Markdown
# table: rows are scenario/metric, columns are the servers.
#
#   cmd/usher-bench/peers/run.sh [--hydra DIR] [--dex DIR] [--duration 20s]
#       [--rotations 3] [--warmup 3s] [--no-tuned] [--hydra-gowork FILE] [--work DIR]
#
# --hydra/--dex: source directories (a peer left out is skipped). --no-tuned:
# no "Hydra tuned" column (Hydra with oauth2.hashers.pbkdf2.iterations=1).
# --hydra-gowork: a go.work to build Hydra with, for a module version the proxy
# no longer serves (a `replace` to a local copy). Each rotation runs every
# scenario once against every server in turn; the table gives the medians.
# Scenarios (32 keep-alive connections, 2 threads):
#   client credentials: POST token, Basic auth, grant_type=client_credentials
#   introspection: POST introspect of a token issued beforehand (Usher: as an
#     authenticated resource server; Hydra: admin port, no auth; Dex: no auth)
# Server CPU comes from /proc/PID/stat (utime+stime) around each run; RSS idle
# is read after setup, before any load, RSS peak is sampled every 100 ms.

HYDRA= DEX= DURATION=20s ROTATIONS=3 WARMUP=3s TUNED=1 HYDRA_GOWORK= WORK=/tmp/usher-peers
CONNS=32 THREADS=2
while [ $# -gt 0 ]; do
	case $1 in
	--hydra) HYDRA=$2; shift ;;
	--dex) DEX=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--rotations) ROTATIONS=$2; shift ;;
	--warmup) WARMUP=$2; shift ;;
	--no-tuned) TUNED= ;;
	--hydra-gowork) HYDRA_GOWORK=$2; shift ;;
	--work) WORK=$2; shift ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
LUA=$HERE/post.lua
PG=postgres://postgres@127.0.0.1:5432
TCK=$(getconf CLK_TCK)
mkdir -p "$WORK" || exit 1
RESULTS=$WORK/results.tsv
: >"$RESULTS"
rm -f "$WORK"/*.env "$WORK"/*.pid "$WORK/hydra" # nothing of an earlier run counts

say() { echo "peers: $*" >&2; }

if ! command -v wrk >/dev/null; then
	say "installing wrk"
	apt-get install -y wrk >"$WORK/apt.log" 2>&1 || { say "cannot install wrk (see $WORK/apt.log)"; exit 1; }
fi

# Servers started here, stopped on exit (by their process ids).
PIDS=
# They are not children of this shell (their setup ran in a subshell): wait for
# them to be gone (at most 15 s each), so that a next run finds the ports free.
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fresh_db() {
	dropdb -h 127.0.0.1 -U postgres --if-exists "$1" &&
		createdb -h 127.0.0.1 -U postgres "$1"
}

wait_ready() { # URL PID
	i=0
	while [ $i -lt 120 ]; do
		kill -0 "$2" 2>/dev/null || return 1
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 | tr -d '\n')"; }

# A server's description, written by its setup: pid, token and introspection
# requests. No introspection URL means the server has none (n/a).
describe() { # NAME PID TOKEN_URL TOKEN_BODY TOKEN_AUTH INTRO_URL INTRO_AUTH
	cat >"$WORK/$1.env" <<-EOF
		PID='$2'
		TOKEN_URL='$3'
		TOKEN_BODY='$4'
		TOKEN_AUTH='$5'
		INTRO_URL='$6'
		INTRO_AUTH='$7'
	EOF
}

# A fresh access token from the server described in $WORK/NAME.env.
issue_token() {
	(
		. "$WORK/$1.env"
		curl -fsS -X POST -H "Authorization: $TOKEN_AUTH" \
			-H 'Content-Type: application/x-www-form-urlencoded' --data "$TOKEN_BODY" "$TOKEN_URL" |
			jq -er .access_token
	)
}

setup_usher() {
	say "building Usher from $ROOT"
	(cd "$ROOT" && go build -o "$WORK/usher" ./cmd/usher) || return 1
	fresh_db usher_peers || return 1
	export USHER_DATABASE_URL="$PG/usher_peers?sslmode=disable"
	export USHER_SECRET=peers-secret-peers-secret-peers-secret-0123
	export USHER_LISTEN=127.0.0.1:18080 USHER_PUBLIC_URL=http://127.0.0.1:18080
	export USHER_SMTP_HOST=127.0.0.1 USHER_SMTP_PORT=2525 USHER_SMTP_TLS=none USHER_SMTP_FROM=no-reply@peers.example
	# No metrics listener: nothing here reads it, and another Usher's (the usher-bench
	# target's) may hold its default port.
	export USHER_LOG_LEVEL=warn USHER_JANITOR_INTERVAL=0 USHER_METRICS_LISTEN=
	u=$WORK/usher
	$u migrate >"$WORK/usher-setup.log" 2>&1 &&
		$u institution create peers --name Peers >>"$WORK/usher-setup.log" 2>&1 || return 1
	cc=$($u client create --institution peers --name 'peers client credentials' \
		--grant client_credentials --scope accounts:read --json) || return 1
	rs=$($u client create --institution peers --name 'peers resource server' \
		--grant client_credentials --scope accounts:read --introspection --json) || return 1
	$u serve >"$WORK/usher.log" 2>&1 &
	pid=$!
	echo $pid >"$WORK/usher.pid"
	base=http://127.0.0.1:18080/institutions/peers
	wait_ready "$base/.well-known/openid-configuration" $pid || return 1
	describe usher $pid "$base/oauth2/token" 'grant_type=client_credentials&scope=accounts%3Aread' \
		"$(basic "$(echo "$cc" | jq -r .client_id)" "$(echo "$cc" | jq -r .client_secret)")" \
		"$base/oauth2/introspect" \
		"$(basic "$(echo "$rs" | jq -r .client_id)" "$(echo "$rs" | jq -r .client_secret)")"
}

setup_hydra() { # NAME DATABASE PUBLIC_PORT ADMIN_PORT [PBKDF2_ITERATIONS]
	if [ ! -x "$WORK/hydra" ]; then
		say "building Hydra from $HYDRA"
		(cd "$HYDRA" && GOWORK=${HYDRA_GOWORK:-off} go build -o "$WORK/hydra" .) || return 1
	fi
	fresh_db "$2" || return 1
	export DSN="$PG/$2?sslmode=disable" SECRETS_SYSTEM=peers-system-secret-0123456789abcdef
	export URLS_SELF_ISSUER=http://127.0.0.1:$3 LOG_LEVEL=warn
	export SERVE_PUBLIC_HOST=127.0.0.1 SERVE_PUBLIC_PORT=$3 SERVE_ADMIN_HOST=127.0.0.1 SERVE_ADMIN_PORT=$4
	if [ -n "${5:-}" ]; then export OAUTH2_HASHERS_PBKDF2_ITERATIONS=$5; fi
	"$WORK/hydra" migrate sql up -e --yes >"$WORK/$1-setup.log" 2>&1 || return 1
	"$WORK/hydra" serve all --dev --sqa-opt-out >"$WORK/$1.log" 2>&1 &
	pid=$!
	echo $pid >"$WORK/$1.pid"
	admin=http://127.0.0.1:$4
	wait_ready "$admin/health/ready" $pid || return 1
	curl -fsS -X POST -H 'Content-Type: application/json' "$admin/admin/clients" -d '{
		"client_id": "peers-cc", "client_secret": "peers-cc-secret-0123456789abcdef",
		"grant_types": ["client_credentials"], "scope": "accounts:read",
		"token_endpoint_auth_method": "client_secret_basic"}' >>"$WORK/$1-setup.log" || return 1
	describe "$1" $pid "http://127.0.0.1:$3/oauth2/token" 'grant_type=client_credentials&scope=accounts%3Aread' \
		"$(basic peers-cc peers-cc-secret-0123456789abcdef)" "$admin/admin/oauth2/introspect" ''
}

setup_dex() {
	say "building Dex from $DEX"
	(cd "$DEX" && GOWORK=off go build -o "$WORK/dex" ./cmd/dex) || return 1
	fresh_db dex_peers || return 1
	cat >"$WORK/dex.yaml" <<-EOF
		issuer: http://127.0.0.1:15556/dex
		storage:
		  type: postgres
		  config:
		    host: 127.0.0.1
		    port: 5432
		    database: dex_peers
		    user: postgres
		    ssl:
		      mode: disable
		web:
		  http: 127.0.0.1:15556
		logger:
		  level: warn
		oauth2:
		  grantTypes: [authorization_code, refresh_token, client_credentials]
		enablePasswordDB: true
		staticClients:
		  - id: peers-cc
		    secret: peers-cc-secret-0123456789abcdef
		    name: peers
		    redirectURIs: ['http://127.0.0.1:5555/callback']
	EOF
	"$WORK/dex" serve "$WORK/dex.yaml" >"$WORK/dex.log" 2>&1 &
	pid=$!
	echo $pid >"$WORK/dex.pid"
	base=http://127.0.0.1:15556/dex
	wait_ready "$base/.well-known/openid-configuration" $pid || return 1
	intro=
	if curl -fsS "$base/.well-known/openid-configuration" | jq -e .introspection_endpoint >/dev/null; then
		intro=$base/token/introspect
	fi
	describe dex $pid "$base/token" 'grant_type=client_credentials' \
		"$(basic peers-cc peers-cc-secret-0123456789abcdef)" "$intro" ''
}

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# wrk against NAME for DURATION; SCENARIO is cc or intro. With a rotation
# number, appends "NAME SCENARIO ok/s p50 p99 cpu_ms_per_op failed" to
# results.tsv; without, it is a warm-up.
measure() { # NAME SCENARIO DURATION [ROTATION]
	. "$WORK/$1.env"
	if [ "$2" = cc ]; then
		url=$TOKEN_URL body=$TOKEN_BODY auth=$TOKEN_AUTH
	else
		[ -n "$INTRO_URL" ] || return 0
		tok=$(issue_token "$1") || { say "$1: no token to introspect"; return 1; }
		url=$INTRO_URL body="token=$tok&token_type_hint=access_token" auth=$INTRO_AUTH
		check=$(curl -fsS -X POST ${auth:+-H "Authorization: $auth"} --data "$body" "$url")
		case $check in *'"active":true'*) ;; *) say "$1: introspection does not answer active: $check"; return 1 ;; esac
	fi
	c0=$(cpu_ticks "$PID")
	(while kill -0 "$PID" 2>/dev/null; do rss_kib "$PID"; sleep 0.1; done) >>"$WORK/$1.rss" &
	sampler=$!
	out=$(PEERS_BODY=$body PEERS_AUTH=$auth wrk -t$THREADS -c$CONNS -d"$3" -s "$LUA" "$url" 2>&1)
	kill $sampler 2>/dev/null
	wait $sampler 2>/dev/null
	c1=$(cpu_ticks "$PID")
	line=$(echo "$out" | grep '^PEERS ') || { say "$1 $2: wrk failed: $out"; return 1; }
	[ -n "${4:-}" ] || return 0
	echo "$line" | awk -v n="$1" -v s="$2" -v cpu=$((c1 - c0)) -v tck="$TCK" '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s\t%s\t%.1f\t%.2f\t%.2f\t%.3f\t%d\n", n, s, v["ok"] / v["seconds"], v["p50_ms"], v["p99_ms"],
			(v["ok"] > 0 ? cpu * 1000 / tck / v["ok"] : 0), v["failed"] }' >>"$RESULTS"
}

# The servers, in column order: name, label, setup command.
SERVERS="usher"
[ -n "$HYDRA" ] && SERVERS="$SERVERS hydra" && [ -n "$TUNED" ] && SERVERS="$SERVERS hydra_tuned"
[ -n "$DEX" ] && SERVERS="$SERVERS dex"
label() {
	case $1 in
	usher) echo "Usher $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" ;;
	hydra) echo "Hydra defaults" ;;
	hydra_tuned) echo "Hydra tuned (PBKDF2 1 round)" ;;
	dex) echo "Dex" ;;
	esac
}

LIVE=
for s in $SERVERS; do
	case $s in
	usher) (setup_usher) ;;
	hydra) (setup_hydra hydra hydra_peers 14444 14445) ;;
	hydra_tuned) (setup_hydra hydra_tuned hydra_peers_tuned 14454 14455 1) ;;
	dex) (setup_dex) ;;
	esac
	# The setups run in subshells (their exports stay there): the pid comes back through files.
	[ -f "$WORK/$s.pid" ] && PIDS="$PIDS $(cat "$WORK/$s.pid")"
	if [ -f "$WORK/$s.env" ] && . "$WORK/$s.env" && kill -0 "$PID" 2>/dev/null; then
		LIVE="$LIVE $s"
		: >"$WORK/$s.rss"
	else
		say "$s: could not be built, configured or started (logs in $WORK): column n/a"
	fi
done
[ -n "$LIVE" ] || exit 1

sleep 2
for s in $LIVE; do
	. "$WORK/$s.env"
	rss_kib "$PID" >"$WORK/$s.idle"
	say "$s: warm-up"
	measure "$s" cc "$WARMUP" && measure "$s" intro "$WARMUP" || say "$s: warm-up failed"
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
r=1
while [ $r -le "$ROTATIONS" ]; do
	for s in $LIVE; do
		say "rotation $r/$ROTATIONS: $s"
		measure "$s" cc "$DURATION" $r || say "$s: client credentials failed"
		measure "$s" intro "$DURATION" $r || say "$s: introspection failed"
	done
	r=$((r + 1))
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# The table.
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { # NAME SCENARIO FIELD FORMAT
	v=$(awk -F'\t' -v n="$1" -v s="$2" -v f="$3" '$1 == n && $2 == s { print $f }' "$RESULTS" | median)
	[ "$v" = n/a ] && echo n/a || printf "$4" "$v"
}
cell() { # NAME ROW
	case " $LIVE " in *" $1 "*) ;; *) echo n/a; return ;; esac
	case $2 in
	cc) col "$1" cc 3 '%.0f' ;;
	cclat) echo "$(col "$1" cc 4 '%.1f') / $(col "$1" cc 5 '%.1f')" ;;
	intro)
		. "$WORK/$1.env"
		if [ -z "$INTRO_URL" ]; then echo "n/a (none)"; return; fi
		echo "$(col "$1" intro 3 '%.0f') ($([ -n "$INTRO_AUTH" ] && echo authenticated || echo no auth))" ;;
	introlat)
		. "$WORK/$1.env"
		if [ -z "$INTRO_URL" ]; then echo n/a; return; fi
		echo "$(col "$1" intro 4 '%.1f') / $(col "$1" intro 5 '%.1f')" ;;
	cpu) col "$1" cc 6 '%.3f' ;;
	cpuintro) col "$1" intro 6 '%.3f' ;;
	rss) awk '{ printf "%.1f", $1 / 1024 }' "$WORK/$1.idle"; printf ' / '
		sort -n "$WORK/$1.rss" | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }' ;;
	failed) awk -F'\t' -v n="$1" '$1 == n { f += $7 } END { print f + 0 }' "$RESULTS" ;;
	esac
}
row() { # TITLE ROW
	printf '| %s |' "$1"
	for s in $SERVERS; do printf ' %s |' "$(cell "$s" "$2" | tr '\n' ' ' | sed 's/ *$//')"; done
	echo
}

echo "wrk -t$THREADS -c$CONNS -d$DURATION, $ROTATIONS rotation(s), medians; load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo
printf '| scenario |'; for s in $SERVERS; do printf ' %s |' "$(label "$s")"; done; echo
printf '|---|'; for s in $SERVERS; do printf -- '--:|'; done; echo
row 'client credentials, tokens/s' cc
row 'client credentials p50 / p99, ms' cclat
row 'introspection, /s' intro
row 'introspection p50 / p99, ms' introlat
row 'server CPU per token, ms' cpu
row 'server CPU per introspection, ms' cpuintro
row 'idle / peak RSS, MiB' rss
row 'failed requests (all runs)' failed
