#!/bin/bash
# Request bodies: Content-Encoding gzip is accepted; at most 4 MiB after
# decompression (exactly 4 MiB passes), else 413 -- plain (with and
# without Expect: 100-continue) or gzip (a small bomb); a corrupt or
# truncated gzip body is 400 invalid_encoding; another encoding is 415.
. "$(dirname "$0")/lib.bash"
hq_start
P=$(batches S0001-R01)
MiB4=4194304

# send FILE [curl args]: POST FILE as a batch; sets STATUS and BODY.
send() {
	local f=$1
	shift
	STATUS=$(curl_as S0001-R01 -o "$DIR/body" -w '%{http_code}' -H "Idempotency-Key: $(uuid)" \
		-H 'Content-Type: application/json' --data-binary "@$f" "$@" "$BASE$P")
	BODY=$(cat "$DIR/body")
}
# padded SIZE: a valid one-customer batch padded with spaces to SIZE bytes.
padded() {
	local b
	b=$(batch "$(customer "$(uuid)")")
	{ printf '%s' "${b%\}}"; head -c $(($1 - ${#b})) /dev/zero | tr '\0' ' '; printf '}'; } >"$DIR/padded.json"
	[ "$(stat -c %s "$DIR/padded.json")" = "$1" ] || fail "padded size"
}

c=$(uuid)
batch "$(customer "$c")" "$(address "$(uuid)" "$c")" | gzip -c >"$DIR/small.gz"
send "$DIR/small.gz" -H 'Content-Encoding: gzip'
expect_status 200 gzip
eq "$(jb '[.results[].status] | join(" ")')" "accepted accepted" "gzip batch results"
ok "gzip body accepted"

padded $MiB4
send "$DIR/padded.json"
expect_status 200 "exactly 4 MiB"
gzip -c "$DIR/padded.json" >"$DIR/padded.gz"
send "$DIR/padded.gz" -H 'Content-Encoding: gzip'
expect_status 200 "exactly 4 MiB after gzip"
ok "exactly 4 MiB accepted, plain and gzip"

padded $((MiB4 + 1))
send "$DIR/padded.json"
expect_error 413 body_too_large "4 MiB + 1 with Expect: 100-continue"
send "$DIR/padded.json" -H 'Expect:'
expect_error 413 body_too_large "4 MiB + 1 without Expect"
gzip -c "$DIR/padded.json" >"$DIR/padded.gz"
send "$DIR/padded.gz" -H 'Content-Encoding: gzip'
expect_error 413 body_too_large "4 MiB + 1 after gzip"
head -c $((64 * 1048576)) /dev/zero | gzip -c >"$DIR/bomb.gz"
[ "$(stat -c %s "$DIR/bomb.gz")" -lt 200000 ] || fail "bomb too big"
send "$DIR/bomb.gz" -H 'Content-Encoding: gzip'
expect_error 413 body_too_large "gzip bomb"
ok "413 over 4 MiB: plain, plain without Expect, gzip, gzip bomb"

head -c 100 "$DIR/small.gz" >"$DIR/trunc.gz"
send "$DIR/trunc.gz" -H 'Content-Encoding: gzip'
expect_error 400 invalid_encoding "truncated gzip"
printf 'this is not gzip at all' >"$DIR/junk.gz"
send "$DIR/junk.gz" -H 'Content-Encoding: gzip'
expect_error 400 invalid_encoding "corrupt gzip"
send "$DIR/small.gz" -H 'Content-Encoding: br'
expect_error 415 unsupported_encoding "brotli"
ok "400 for a corrupt or truncated gzip body, 415 for another encoding"

get /v1/health ""
expect_status 200 "HQ still fine"
