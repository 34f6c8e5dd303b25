#!/bin/bash
# 58-run-no-threads: the service cannot start its threads (a process limit:
# RLIMIT_NPROC 1 for the service's user, which its own process already
# uses up). What must hold: `run` does not go on without its uploader; it
# logs which thread could not start and why, and exits 71 (EX_OSERR), so
# that systemd restarts it; nothing is lost (the customer made before stays).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hqlib.sh"
setup
[ "$(id -u)" = 0 ] || skip "needs root to run the service as another user (setpriv)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
id nobody >/dev/null 2>&1 || skip "needs the user nobody"
hq_start
# a register that the user nobody owns: its own folder, config and token
R=$T/reg
mkdir "$R"
chmod 755 "$T" "$H"
sed -e "s|^database *=.*|database = $R/pos.db|" -e "s|^token_file *=.*|token_file = $R/token|" "$CONF" >"$R/pos.conf"
cp "$(sed -n 's/^token_file *= *//p' "$CONF")" "$R/token"
chown -R nobody "$R"
chmod 600 "$R/token"
NOBODY=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
as_nobody() { "${NOBODY[@]}" "$@"; }

expect_rc 0 as_nobody "$POSAGENT_BIN" -c "$R/pos.conf" init
expect_rc 0 as_nobody "$POSAGENT_BIN" -c "$R/pos.conf" customer create --first-name Kept

check "no thread can start: run exits 71 at once and says which thread and why"
# (LeakSanitizer needs a thread of its own at exit: off under SANITIZE=1)
[ -z "${PA_SANITIZED:-}" ] || export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
expect_rc 71 timeout -s KILL 60 "${NOBODY[@]}" bash -c 'ulimit -u 1 && exec "$0" -c "$1" run' "$POSAGENT_BIN" "$R/pos.conf"
grep -q "cannot start the upload thread: " "$T/err" || fail "the failed thread start is not logged"
grep -q "service stopping after a local failure" "$T/err" || fail "the stop is not logged"

check "the customer made before is still there"
expect_rc 0 as_nobody "$POSAGENT_BIN" -c "$R/pos.conf" --json customer show R01-000001
[ "$(jget .first_name)" = Kept ] || fail "the customer is gone"
