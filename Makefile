# posagent: one make for everything. `make` builds, `make test` runs every
# test, `make deps` installs the Debian packages, `make demo` tells the story,
# `make deb` builds the Debian package (debian/, with debhelper), `make install
# DESTDIR= PREFIX=` installs the agent (what debian/rules calls).
# Quiet unless V=1. SANITIZE=1 builds with ASan+UBSan into build/asan.
VERSION   := 0.2.0
CC        ?= cc
SANITIZE  ?=
ifeq ($(SANITIZE),1)
BUILD     ?= build/asan
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),fuzzer)
# `make fuzz` builds here with clang: libFuzzer's coverage plus ASan/UBSan.
BUILD     ?= build/fuzz
SANFLAGS  := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD     ?= build
SANFLAGS  :=
endif

CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wno-format-nonliteral -Wvla
CPPFLAGS  += -std=c11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DPOSAGENT_VERSION='"$(VERSION)"' \
             -I. -I/usr/include/cjson -MMD -MP
ALLCFLAGS  = $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS)
LDFLAGS   += $(SANFLAGS) -Wl,--as-needed -Wl,-z,relro,-z,now
# The CLI links only what every command uses; libcurl is loaded at run
# time by common/hqclient.c when a command talks to HQ, and libsystemd by
# common/svc.c when systemd runs the service (start-up cost).
AGENT_LIBS := -lsqlite3 -lcjson -linih -ldl -lpthread -lm
HQ_LIBS    := -lmicrohttpd -lgnutls -lsqlite3 -lcjson -lz -lpthread -lm
TEST_LIBS  := -lcmocka $(AGENT_LIBS) -lz

ifneq ($(V),1)
Q := @
endif

COMMON_SRC := $(wildcard common/*.c)
AGENT_SRC  := $(wildcard agent/*.c)
HQ_SRC     := $(wildcard tests/hq/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
AGENT_OBJ  := $(AGENT_SRC:%.c=$(BUILD)/%.o)
HQ_OBJ     := $(HQ_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
# tests/fuzz: one harness per parser of untrusted input. make test replays
# each one's seed corpus through replay.c (normal compiler); make fuzz
# runs them under libFuzzer (clang) for FUZZ_SECONDS each.
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES  := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/fuzz-replay/%)
FUZZ_BIN    := $(FUZZ_NAMES:%=$(BUILD)/fuzz-bin/%)
FUZZ_SECONDS ?= 60

all: $(BUILD)/posagent $(BUILD)/hq

# Rebuild everything when the compiler or flags change (CC=clang, SANITIZE=1).
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(ALLCFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALLCFLAGS) $(LDFLAGS)' > $@

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALLCFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/posagent: $(AGENT_OBJ) $(BUILD)/libcommon.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(AGENT_OBJ) $(BUILD)/libcommon.a $(AGENT_LIBS)

$(BUILD)/hq: $(HQ_OBJ) $(BUILD)/libcommon.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(HQ_OBJ) $(BUILD)/libcommon.a $(HQ_LIBS) -ldl

$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libcommon.a $(TEST_LIBS)

$(BUILD)/fuzz-replay/replay_%.o: tests/fuzz/replay.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALLCFLAGS) -DCORPUS='"tests/fuzz/corpus/$*"' -c -o $@ $<

$(BUILD)/fuzz-replay/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/fz_common.o $(BUILD)/fuzz-replay/replay_%.o \
                        $(BUILD)/libcommon.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libcommon.a $(AGENT_LIBS)

$(BUILD)/fuzz-bin/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/fz_common.o $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(BUILD)/libcommon.a $(AGENT_LIBS)

fuzz-bins: $(FUZZ_BIN)

# Runs every harness under libFuzzer for FUZZ_SECONDS (working corpus and
# crash files in build/fuzz/); prints each one's executions and the total.
fuzz:
	$(Q)$(MAKE) --no-print-directory SANITIZE=fuzzer CC=clang fuzz-bins
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run build/fuzz $(FUZZ_NAMES)

# A thousand kill -9s under HQ faults, then proof of exactly once
# (tests/soak/run; SOAK_KILLS, SOAK_SEED).
soak: all
	$(Q)BUILD=$(BUILD) SOAK_KILLS=$(or $(SOAK_KILLS),1000) tests/soak/run

# Debian packages needed to build, test and demo; installed only when missing.
DEB_PKGS := build-essential pkg-config clang libsqlite3-dev libcurl4-openssl-dev \
            libcjson-dev libcmocka-dev libinih-dev libmicrohttpd-dev libgnutls28-dev \
            zlib1g-dev sqlite3 gnutls-bin curl ca-certificates procps man-db jq \
            dpkg-dev lintian systemd hyperfine debhelper libsystemd-dev \
            systemd-container debootstrap libfuzzer-14-dev libclang-rt-14-dev \
            prometheus prometheus-node-exporter strace
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# PA_SANITIZED tells the scripts they run under ASan/UBSan (SANITIZE=1),
# where every process start costs several times more.
test: all $(UNIT_BIN) $(FUZZ_REPLAY)
	$(Q)BUILD=$(BUILD) PA_SANITIZED=$(SANITIZE) tests/run $(UNIT_BIN) $(FUZZ_REPLAY)

# The package under a real systemd: tests/systemd boots a Debian 12 machine
# with systemd-nspawn (its root made once by debootstrap and cached in
# /var/cache/posagent-test); each script SKIPs where nspawn cannot run.
test-systemd: all
	$(Q)BUILD=$(BUILD) TESTS="$(wildcard tests/systemd/[0-9]*.sh)" tests/run

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/demo

bench: all
	$(Q)BUILD=$(BUILD) tests/bench/run

fleet: all
	$(Q)BUILD=$(BUILD) tests/fleet/run

# The .deb, by dpkg-buildpackage on a copy of the tree (the binary in it is
# built there, with Debian's flags): $(BUILD)/posagent_$(VERSION)_ARCH.deb.
deb:
	$(Q)BUILD=$(BUILD) VERSION=$(VERSION) packaging/make-deb

# What the package holds, under DESTDIR. PREFIX is where the program goes
# (default /usr/local); the configuration goes to SYSCONFDIR (/etc) and the
# unit to UNITDIR (/lib/systemd/system), whose ExecStart= names PREFIX.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# The search engineer's completion file; installed once it exists.
BASHCOMP   := $(wildcard packaging/posagent.bash-completion)
install: $(BUILD)/posagent
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(SYSCONFDIR)/posagent $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/posagent $(DESTDIR)$(PREFIX)/bin/posagent
	sed 's/^\(\.TH POSAGENT 1 [0-9-]*\) "posagent [^"]*"/\1 "posagent $(VERSION)"/' packaging/posagent.1 \
		>$(DESTDIR)$(PREFIX)/share/man/man1/posagent.1
	chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man1/posagent.1
	install -m 0644 packaging/posagent.conf $(DESTDIR)$(SYSCONFDIR)/posagent/posagent.conf
	sed -e 's|/usr/bin/posagent|$(PREFIX)/bin/posagent|g' -e 's|/etc/posagent/|$(SYSCONFDIR)/posagent/|g' \
		packaging/posagent.service >$(DESTDIR)$(UNITDIR)/posagent.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/posagent.service
ifneq ($(BASHCOMP),)
	install -D -m 0644 $(BASHCOMP) $(DESTDIR)$(BASHCOMPDIR)/posagent
endif

clean:
	rm -rf build

FORCE:
.PHONY: all deps test test-systemd demo bench fleet deb install clean fuzz fuzz-bins soak FORCE
.SECONDARY:

-include $(COMMON_OBJ:.o=.d) $(AGENT_OBJ:.o=.d) $(HQ_OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d) \
         $(wildcard $(BUILD)/tests/fuzz/*.d)
