# shellcheck shell=bash
# Shared steps of the scripts/w3c-*-suite scripts, which source this file: build Credence,
# serve it on a temporary data dir, call its admin API, put the https proxy (proxy.cjs) in
# front, prepare a W3C suite checkout (our localConfig.cjs, local dependency checkouts) and
# run mocha with the exchange-log hooks. See scripts/w3c/README.md.
#
# The caller sets W3C_NAME (used in messages and temporary names) before sourcing.
# After w3c_serve: TMP (removed on exit), PORT, ADMIN_TOKEN. After w3c_proxy: PROXY_PORT.
# W3C_SUITE_LOGS=DIR keeps the mocha results, the proxy's exchange logs and the server log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/scripts/w3c
TMP=$(mktemp -d "${TMPDIR:-/tmp}/$W3C_NAME.XXXXXX")
SERVER_PID='' PROXY_PID='' PORT='' PROXY_PORT='' BROKEN=()

fail() { echo "$W3C_NAME: $*" >&2; exit 1; }

w3c_cleanup() {
	local status=$?
	trap - EXIT INT TERM
	for pid in $PROXY_PID $SERVER_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "${W3C_SUITE_LOGS:-}" ] && mkdir -p "$W3C_SUITE_LOGS"; then
		cp "$TMP"/mocha-* "$TMP"/proxy-*.jsonl "$TMP"/server.log "$W3C_SUITE_LOGS"/ 2>/dev/null || true
		echo "logs kept in $W3C_SUITE_LOGS"
	fi
	rm -rf "$TMP"
	exit "$status"
}
trap w3c_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for c in go node npm npx openssl curl; do
	command -v "$c" >/dev/null 2>&1 || fail "$c is required"
done

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	fail "no free TCP port found"
}

# jget FILE EXPR: prints EXPR evaluated with j = FILE's JSON
jget() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(eval(process.argv[2]))' "$1" "$2"; }

# w3c_serve [SERVE FLAGS]...: builds cmd/credence and serves it on a fresh data dir and on
# PORT (a free port when PORT is not set yet), with a random admin token, no anonymous
# verification and the given extra flags of credence serve; waits for /readyz.
w3c_serve() {
	echo "== building credence ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
	(cd "$ROOT" && GOFLAGS="${GOFLAGS:--buildvcs=false}" go build -o "$TMP/credence" ./cmd/credence)
	PORT=${PORT:-$(free_port)}
	ADMIN_TOKEN="crd_admin_$(openssl rand -hex 24)"
	CREDENCE_ADMIN_TOKEN=$ADMIN_TOKEN "$TMP/credence" serve --data "$TMP/data" --addr "127.0.0.1:$PORT" \
		--anonymous-verify-rate 0 --log-format text "$@" >"$TMP/server.log" 2>&1 &
	SERVER_PID=$!
	local i
	for i in $(seq 1 300); do
		curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
		kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$TMP/server.log" >&2; fail "credence serve exited"; }
		[ "$i" -lt 300 ] || fail "credence did not become ready on 127.0.0.1:$PORT"
		sleep 0.1
	done
	echo "== credence on 127.0.0.1:$PORT"
}

# w3c_admin PATH JSON OUT: POST JSON to PATH as the admin, the response body to OUT
w3c_admin() {
	curl -sS --fail-with-body -X POST "http://127.0.0.1:$PORT$1" -H "Authorization: Bearer $ADMIN_TOKEN" \
		-H 'Content-Type: application/json' -d "$2" -o "$3" || { cat "$3" >&2; fail "POST $1 failed"; }
}

# w3c_proxy: starts proxy.cjs (https, a self-signed certificate trusted by the suite through
# NODE_EXTRA_CA_CERTS) in front of the server on PORT (which need not be listening yet); it
# reads its tokens from $TMP/run.json, which the caller writes before each run.
w3c_proxy() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/proxy-key.pem" -out "$TMP/proxy-cert.pem" 2>/dev/null ||
		fail "openssl could not make the proxy's certificate"
	[ -f "$TMP/run.json" ] || echo '{}' >"$TMP/run.json"
	W3C_RUN="$TMP/run.json" W3C_UPSTREAM="127.0.0.1:$PORT" W3C_CERT="$TMP/proxy-cert.pem" W3C_KEY="$TMP/proxy-key.pem" \
		W3C_PORT_FILE="$TMP/proxy.port" node "$HERE/proxy.cjs" >"$TMP/proxy.out" 2>&1 &
	PROXY_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$TMP/proxy.port" ] && break
		kill -0 "$PROXY_PID" 2>/dev/null || { cat "$TMP/proxy.out" >&2; fail "proxy exited"; }
		[ "$i" -lt 100 ] || fail "proxy did not start"
		sleep 0.1
	done
	PROXY_PORT=$(cat "$TMP/proxy.port")
	echo "== https proxy on 127.0.0.1:$PROXY_PORT"
}

# w3c_prepare_suite SUITE_DIR LOCALCONFIG [PACKAGE=DIR]...: copies LOCALCONFIG into the suite's
# root as localConfig.cjs (refusing to overwrite one that is not ours: ours carry the word
# credence-w3c), points each PACKAGE dependency of its package.json at file:DIR, and runs
# npm install --install-links when one of those packages is not installed yet.
w3c_prepare_suite() {
	local suite=$1 config=$2 dep missing=''
	shift 2
	if [ -f "$suite/localConfig.cjs" ] && ! grep -q credence-w3c "$suite/localConfig.cjs"; then
		fail "$suite/localConfig.cjs exists and is not Credence's: move it away first"
	fi
	cp "$config" "$suite/localConfig.cjs"
	for dep in "$@"; do
		node -e '
			const fs = require("fs"), [file, name, dir] = process.argv.slice(1);
			const p = JSON.parse(fs.readFileSync(file, "utf8"));
			if(!p.dependencies || !(name in p.dependencies)) throw new Error(file + " has no dependency " + name);
			if(p.dependencies[name] !== "file:" + dir) {
				p.dependencies[name] = "file:" + dir;
				fs.writeFileSync(file, JSON.stringify(p, null, 2) + "\n");
			}' "$suite/package.json" "${dep%%=*}" "$(cd "${dep#*=}" && pwd)" || fail "cannot point ${dep%%=*} at ${dep#*=}"
		[ -d "$suite/node_modules/${dep%%=*}" ] || missing=1
	done
	if [ -n "$missing" ] || [ ! -d "$suite/node_modules" ]; then
		echo "== npm install --install-links in $suite"
		(cd "$suite" && npm install --install-links --no-audit --no-fund) >"$TMP/npm.log" 2>&1 ||
			{ tail -30 "$TMP/npm.log" >&2; fail "npm install failed"; }
	fi
	echo "== suite $(git -C "$suite" rev-parse --short HEAD 2>/dev/null || echo "(not a git checkout)")"
}

# w3c_run_json KEY=VALUE...: (re)writes $TMP/run.json, read by localConfig.cjs and proxy.cjs;
# VALUE is JSON when it parses as JSON, else a string.
w3c_run_json() {
	node -e '
		const o = {};
		for(const kv of process.argv.slice(2)) {
			const i = kv.indexOf("="), k = kv.slice(0, i), v = kv.slice(i + 1);
			try { o[k] = JSON.parse(v); } catch(e) { o[k] = v; }
		}
		require("fs").writeFileSync(process.argv[1], JSON.stringify(o));' "$TMP/run.json" "$@"
}

# w3c_mocha RUN SUITE_DIR [MOCHA ARGS]...: runs mocha in SUITE_DIR (default args: tests/) with
# the exchange-log hooks and the JSON reporter, logging exchanges to $TMP/proxy-RUN.jsonl
# (name it "log" in run.json), and prints the summary. A run in which no test ran is
# recorded in BROKEN; w3c_finish fails then.
w3c_mocha() {
	local run=$1 suite=$2 rc=0
	shift 2
	[ $# -gt 0 ] || set -- tests/
	(cd "$suite" && CREDENCE_W3C_RUN="$TMP/run.json" W3C_PROXY_LOG="$TMP/proxy-$run.jsonl" \
		NODE_EXTRA_CA_CERTS="$TMP/proxy-cert.pem" npx --no-install mocha "$@" --timeout 15000 \
		--require "$HERE/hooks.cjs" --reporter json --reporter-option "output=$TMP/mocha-$run.json") \
		>"$TMP/mocha-$run.log" 2>&1 || rc=$?
	if [ -s "$TMP/mocha-$run.json" ] && [ "$(jget "$TMP/mocha-$run.json" j.stats.tests)" -gt 0 ]; then
		echo "== $run: $(node "$HERE/summarize.cjs" "$TMP/mocha-$run.json")"
	else
		tail -30 "$TMP/mocha-$run.log" >&2
		echo "== $run: the run did not start (mocha exit status $rc)" >&2
		BROKEN+=("$run")
	fi
}

w3c_finish() {
	[ ${#BROKEN[@]} -eq 0 ] || fail "runs that did not start: ${BROKEN[*]}"
}
