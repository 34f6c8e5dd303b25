# tests/e2e/hqlib.sh: the reference HQ for end-to-end scripts. Source after
# lib.sh and setup:
#
# hq_start [ARGS]     tests/hq/start $H ARGS (H=$T/hq): makes a CA, tokens and
#                     configs, starts HQ; stopped on exit. Sets CONF to
#                     $H/S0001-R01.conf and DB to its database.
# hq_stop             tests/hq/stop $H (HQ "down"; data kept for hq_start)
# hq_admin VERB [JSON] tests/hq/admin $H VERB JSON (stdout: HQ's answer)
# pr ARGS...          posagent -c $CONF ARGS... (register S0001/R01); to
#                     background the service use "$POSAGENT_BIN" -c "$CONF" run &
#                     so that $! is posagent itself, not a subshell
# pr2 ARGS...         posagent -c $H/S0001-R02.conf ARGS...

H=
CONF=

hq_start() {
	H=$T/hq
	"$TOP/tests/hq/start" "$H" "$@" >"$T/hq-start.log" 2>&1 || { cat "$T/hq-start.log" >&2; fail "tests/hq/start failed"; }
	# the first start only: a script's own trap set after it (its service,
	# a node_exporter) must survive a restart of HQ
	if [ -z "${HQ_TRAPPED:-}" ]; then
		trap 'hq_stop_quiet; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
		HQ_TRAPPED=1
	fi
	CONF=$H/S0001-R01.conf
	DB=$(sed -n 's/^database *= *//p' "$CONF")
}

hq_stop_quiet() {
	[ -n "$H" ] && [ -f "$H/hq.pid" ] && "$TOP/tests/hq/stop" "$H" >/dev/null 2>&1
	return 0
}

hq_stop() {
	"$TOP/tests/hq/stop" "$H" >/dev/null 2>&1 || fail "tests/hq/stop failed"
}

hq_admin() {
	"$TOP/tests/hq/admin" "$H" "$@"
}

pr() {
	"$POSAGENT_BIN" -c "$CONF" "$@"
}

pr2() {
	"$POSAGENT_BIN" -c "$H/S0001-R02.conf" "$@"
}
