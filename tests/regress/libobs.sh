# SPDX-License-Identifier: ISC
# libobs.sh: helpers for the observability scenarios (040, 041), sourced
# after lib.sh.
KZOBS="python3 $top_srcdir/tests/regress/kzobs.py"

# wait_serving SECONDS COMMAND...: lib.sh's wait_until, given up at once
# if the daemon ($daemon_pid) has died: true only when COMMAND succeeded
# while the daemon still runs.
wait_serving() {
	_ws_secs=$1
	shift
	wait_until "$_ws_secs" _ws_done "$@" || return 1
	daemon_alive
}
_ws_done() {
	"$@" || ! daemon_alive
}
daemon_alive() {
	[ -z "$daemon_pid" ] || kill -0 "$daemon_pid" 2>/dev/null
}

# metrics_url: the address the daemon logged for metrics_listen (a TCP
# port 0 is the kernel's choice), into $murl.
metrics_logged() {
	murl=$(sed -n 's/.*metrics: listening on \(http:[^ ]*\).*/\1/p' \
	    "$tmp/daemon.err" | tail -1)
	[ -n "$murl" ]
}

# scrape FILE [CURL-ARGS...]: GET /metrics into FILE.
scrape() {
	_f=$1
	shift
	curl -sf --max-time 10 "$@" -o "$_f" "${murl:-http://localhost}/metrics"
}

# metric FILE 'name{labels}': its value (0 when absent).
metric() {
	awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$1"
}

# Every sample's family has # HELP and # TYPE (histogram and summary
# samples by their base name).
families_documented() {
	awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { type[$3] = 1; next }
	/^#/ { next }
	{
		n = $1; sub(/\{.*/, "", n)
		b = n; sub(/_(bucket|sum|count)$/, "", b)
		if (!((n in help && n in type) || (b in help && b in type))) {
			print "# undocumented: " n; bad = 1
		}
	}
	END { exit bad }' "$1"
}
