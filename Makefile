# kos: one binary, a Kubernetes-compatible control plane with OpenStack built in.
#   make run    install missing Debian packages, build, start a single-node kos
#   make test   install, build, then every test (unit under ASan+UBSan, fuzz, end-to-end)
#   make bench  benchmarks (figures go to docs/benchmarks.md by hand)

BUILD    ?= build
CC       ?= cc
PYTHON   := /usr/bin/python3
DATA_DIR ?= $(CURDIR)/run/data
PORT     ?= 6443
FUZZ_SECONDS ?= 5

# Debian packages the build, the tests and the benchmarks need.
DEB_PACKAGES := gcc make pkg-config clang libclang-rt-14-dev \
	libmicrohttpd-dev libjansson-dev libyaml-dev libsqlite3-dev libgnutls28-dev \
	libcmocka-dev libcurl4-openssl-dev python3-pytest python3-kubernetes python3-yaml etcd-server wrk curl openssl
# OCI images (agent/image): gzip layers; the e2e registry, the busybox the test image is built
# from, and the test token server (JWTs signed with a self-signed certificate).
DEB_PACKAGES += zlib1g-dev docker-registry busybox-static python3-jwt python3-cryptography
# (openssl above: the tests and benchmarks make throwaway certificates; Keystone itself is
# installed by ../shared/tools/keystone-up.sh when its tests start it.)
# Containers (agent/runtime): the OCI runtime and the busybox the e2e root filesystems use;
# bc for bench/agent.sh's arithmetic.
DEB_PACKAGES += runc busybox-static bc
# Pod networking (agent/network) and the Service proxy (agent/proxy) load their rules
# with nft.
DEB_PACKAGES += nftables
# Network namespaces in the e2e tests (tests/e2e/netns.py): socat carries loopback ports
# between the host and a test's namespace; nsenter and ss come with util-linux and iproute2.
DEB_PACKAGES += socat iproute2 util-linux
# gRPC probes (agent/prober): the e2e test's gRPC health server.
DEB_PACKAGES += python3-grpcio
# jemalloc is kos's malloc (the sanitized builds keep ASan's): with glibc's, malloc and free
# were a quarter of a create's CPU and the request threads queued on its arena locks.
DEB_PACKAGES += libjemalloc-dev
KOS_MALLOC_LIBS := -ljemalloc

PKGS    := libmicrohttpd jansson yaml-0.1 sqlite3 libcurl gnutls
PKGS    += zlib
WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wformat=2 -Wno-format-nonliteral -Werror
BASE_CFLAGS = -std=gnu17 -D_GNU_SOURCE -Isrc $(WARN) -g \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
# build/kos-shim, the container monitor, links only these (no curl, gnutls, sqlite...)
SHIM_LIBS = $(shell pkg-config --libs jansson 2>/dev/null)

CFLAGS_REL  := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
CFLAGS_SAN  := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(shell find src -name '*.c' | sort)
LIB_SRC  := $(filter-out src/main.c src/shim_main.c,$(SRC))
HDRS     := $(shell find src -name '*.h')
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
SAN_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
FUZZ_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzzobj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all deps run test unit fuzz e2e bench format check-src clean

all: $(BUILD)/kos

# Installs only what is missing, so a prepared machine pays nothing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_REL) -c $< -o $@

$(BUILD)/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_SAN) -c $< -o $@

$(BUILD)/fuzzobj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(BASE_CFLAGS) -O1 -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

# kos-shim is installed beside kos (the agent looks for it there): whatever builds kos builds it.
$(BUILD)/kos: $(OBJ) $(BUILD)/obj/src/main.o | $(BUILD)/kos-shim
	$(CC) $(CFLAGS_REL) $^ -o $@ $(LIBS) $(KOS_MALLOC_LIBS)

# From an archive, the linker takes only the objects the shim reaches.
$(BUILD)/libkos.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kos-shim: $(BUILD)/obj/src/shim_main.o $(BUILD)/libkos.a
	$(CC) $(CFLAGS_REL) $< $(BUILD)/libkos.a -o $@ $(SHIM_LIBS)

# Tests link against archives so that each pulls in only the modules it uses.
$(BUILD)/libkos-san.a: $(SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libkos-fuzz.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

# tests/unit/unit_process.c: every unit test process ignores SIGPIPE, as the kos binary does.
$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit_process.c $(BUILD)/libkos-san.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_SAN) -Itests/unit $< tests/unit/unit_process.c \
		$(BUILD)/libkos-san.a -o $@ $(LIBS) -lcmocka

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libkos-fuzz.a $(HDRS)
	@mkdir -p $(dir $@)
	clang $(BASE_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined $< $(BUILD)/libkos-fuzz.a -o $@ $(LIBS)

run: deps $(BUILD)/kos
	@mkdir -p $(DATA_DIR)
	@echo "kos: starting a single-node server, data in $(DATA_DIR)"
	@echo "kos: in another shell:  kubectl --kubeconfig $(DATA_DIR)/admin.kubeconfig get namespaces"
	exec $(BUILD)/kos server --data-dir $(DATA_DIR) --bind-address 127.0.0.1 --secure-port $(PORT)

# Failures are named again at the end, where a truncated CI log still shows them.
unit: $(UNIT_BIN)
	@failed=""; for t in $(UNIT_BIN); do \
		echo "== $$t"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CMOCKA_MESSAGE_OUTPUT=TAP $$t \
			|| failed="$$failed $$(basename $$t)(exit $$?)"; \
	done; \
	if [ -n "$$failed" ]; then echo "unit tests FAILED:$$failed"; exit 1; fi

fuzz: $(FUZZ_BIN)
	@fail=0; for f in $(FUZZ_BIN); do \
		name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
		work=$$(mktemp -d); [ -d $$corpus ] && cp -r $$corpus/. $$work/; \
		echo "== $$name ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 $$work >$$work.log 2>&1 \
			|| { tail -40 $$work.log; fail=1; }; \
		grep -E '^Done' $$work.log || true; rm -rf $$work $$work.log; \
	done; exit $$fail

e2e: $(BUILD)/kos
	KOS_BIN=$(CURDIR)/$(BUILD)/kos $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

test: deps check-src $(BUILD)/kos
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) e2e

bench: deps $(BUILD)/kos
	KOS_BIN=$(CURDIR)/$(BUILD)/kos bench/run-all.sh

check-src:
	@! grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|strtok|gets)\s*\(' src tests/unit tests/fuzz \
		|| { echo "banned calls above (see DESIGN.md)"; exit 1; }

format:
	clang-format -i $(SRC) $(HDRS) $(UNIT_SRC) $(FUZZ_SRC)

clean:
	rm -rf $(BUILD)
