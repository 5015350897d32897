# Portico — build, run, test. Plain make + pkg-config.
# `make run` installs what is missing, builds the UI and the binary, serves.
# `make test` runs every suite CI runs.

BUILD    ?= build
CC       ?= cc
PKGS     := sqlite3 libpq libcjson openssl libcurl yaml-0.1 zlib
# libjwt is not linked: tests/unit/test_jwt_libjwt.c loads it with dlopen to
# sign tokens independently (its symbols, e.g. jwt_decode, clash with ours).
VERSION  := $(shell git describe --always --dirty --tags 2>/dev/null || echo 0.0.0-dev)

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wvla -fstack-protector-strong
OPT      ?= -O2 -D_FORTIFY_SOURCE=2
SAN      ?=
CFLAGS   := $(WARN) $(OPT) $(SAN) -g -Iinclude $(shell pkg-config --cflags $(PKGS)) \
            -DPORTICO_VERSION='"$(VERSION)"' -D_DEFAULT_SOURCE -pthread
LDLIBS   := $(shell pkg-config --libs $(PKGS)) -lcivetweb -pthread -lm
LDFLAGS  := $(SAN)

SRCS     := $(sort $(wildcard server/*.c))
OBJS     := $(patsubst server/%.c,$(BUILD)/obj/%.o,$(SRCS))
LIBOBJS  := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
GEN      := $(BUILD)/gen/assets_ui.c $(BUILD)/gen/assets_sql.c $(BUILD)/gen/assets_docs.c
GENOBJS  := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen_%.o,$(GEN))
UI_DIST  := ui/dist
UI_FILES := $(shell find $(UI_DIST) -type f 2>/dev/null)
SQL_FILES:= $(shell find server/sql -type f -name '*.sql')
UNIT_SRCS:= $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS:= $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS:= $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRCS))
# The fuzz build: clang, libFuzzer, ASan and UBSan, its own objects in
# build/fuzz, and a stub UI (the targets do not fuzz asset contents).
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

.PHONY: all build ui run test test-unit test-api test-api-sqlite test-api-pg test-e2e test-ui \
        asan format format-check verify verify-static lint-c banned clean deps bench fuzz leakcheck docker \
        docker-check fuzz-build fuzz-bins test-fuzz include-cycles

all: ui build

build: $(BUILD)/portico

deps:
	@bash scripts/deps.sh

ui:
	@cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build

$(BUILD)/portico: $(OBJS) $(GENOBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: server/%.c $(wildcard include/portico/*.h) | $(BUILD)/obj
	@echo "CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen_%.o: $(BUILD)/gen/%.c | $(BUILD)/obj
	@echo "CC $<"
	@$(CC) $(filter-out -Wmissing-prototypes -D_FORTIFY_SOURCE=2,$(CFLAGS)) -O0 -c -o $@ $<

$(BUILD)/embed: embed/embed.c | $(BUILD)/obj
	$(CC) $(WARN) -O2 -o $@ $< -lcrypto -lz

$(BUILD)/gen/assets_ui.c: $(BUILD)/embed $(UI_FILES) $(wildcard $(UI_DIST)/*/index.html) | $(BUILD)/gen
	@if [ ! -f $(UI_DIST)/portal/index.html ] || [ ! -f $(UI_DIST)/console/index.html ]; then \
	  echo "error: ui/dist has no index.html (portal/ and console/): run 'make ui' first" >&2; \
	  exit 1; fi
	$(BUILD)/embed assets_ui $@ $(UI_DIST)

$(BUILD)/gen/assets_sql.c: $(BUILD)/embed $(SQL_FILES) | $(BUILD)/gen
	$(BUILD)/embed assets_sql $@ server/sql

# docs/openapi.yaml is converted to JSON at build time (a dependency-free node
# script that accepts a strict YAML subset) and embedded as "openapi.json".
$(BUILD)/gen/openapi.json: docs/openapi.yaml scripts/yaml2json.mjs | $(BUILD)/gen
	node scripts/yaml2json.mjs docs/openapi.yaml $@

$(BUILD)/gen/assets_docs.c: $(BUILD)/embed $(BUILD)/gen/openapi.json | $(BUILD)/gen
	$(BUILD)/embed assets_docs $@ $(BUILD)/gen/openapi.json

$(BUILD)/obj $(BUILD)/gen $(BUILD)/tests:
	@mkdir -p $@

$(BUILD)/libportico.a: $(LIBOBJS) $(GENOBJS)
	@rm -f $@
	ar rcs $@ $^

# Unit tests reach static functions by including the module's .c file;
# the archive supplies everything else.
$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(BUILD)/libportico.a | $(BUILD)/tests
	$(CC) $(filter-out -Wmissing-prototypes,$(CFLAGS)) -Wno-unused-function -o $@ $< \
	  $(BUILD)/libportico.a $(LDFLAGS) $(LDLIBS) -lcmocka

# Fuzz targets link the instrumented archive; like unit tests they may
# include the module's .c file to reach its statics.
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(BUILD)/libportico.a
	@echo "FUZZ $<"
	@$(CC) $(filter-out -Wmissing-prototypes,$(CFLAGS)) -Wno-unused-function \
	  -fsanitize=fuzzer -o $@ $< $(BUILD)/libportico.a $(LDFLAGS) $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)

fuzz-build:
	@mkdir -p $(FUZZ_DIR)/ui-stub/portal $(FUZZ_DIR)/ui-stub/console
	@for e in portal console; do f=$(FUZZ_DIR)/ui-stub/$$e/index.html; \
	  [ -f $$f ] || echo "<!doctype html><html><body>$$e</body></html>" > $$f; done
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=clang UI_DIST=$(FUZZ_DIR)/ui-stub \
	  OPT="-O1 -fno-omit-frame-pointer -gline-tables-only" SAN="$(FUZZ_SAN)" fuzz-bins

run: deps
	@$(MAKE) --no-print-directory ui
	@$(MAKE) --no-print-directory build
	@mkdir -p var
	@echo "portico: sign in at http://127.0.0.1:8080/console/ with the demo key portico-demo-admin-key-0001"
	$(BUILD)/portico serve --config config/portico.dev.yaml

# Installs what is missing, then builds the UI in its own make run (the
# embedded file list is read after the build: hashed names change).
test: deps
	@$(MAKE) --no-print-directory ui
	@$(MAKE) --no-print-directory test-unit test-ui test-fuzz test-api test-e2e

test-unit: $(UNIT_BINS)
	@bash scripts/with-pg.sh bash scripts/run-unit.sh $(UNIT_BINS)

test-ui:
	@cd ui && npm test

test-api: test-api-sqlite test-api-pg

test-api-sqlite: build
	PORTICO_BIN=$(CURDIR)/$(BUILD)/portico PORTICO_DB=sqlite node --test --test-concurrency=2 tests/api/

test-api-pg: build
	@bash scripts/with-pg.sh env PORTICO_BIN=$(CURDIR)/$(BUILD)/portico PORTICO_DB=postgres \
	  node --test --test-concurrency=2 tests/api/

test-e2e: build
	@bash scripts/with-pg.sh env PORTICO_BIN=$(CURDIR)/$(BUILD)/portico \
	  node --test --test-concurrency=1 tests/e2e/

ASAN_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
LEAK_REPORTS := $(CURDIR)/build/asan/sanitizer-reports

asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -fno-omit-frame-pointer" SAN="$(ASAN_SAN)" \
	  ASAN_OPTIONS=detect_leaks=0 test-unit test-api

# The ASan build with LeakSanitizer on: the unit tests and the SQLite API
# suite (every Portico process the suite starts reports at exit). Reports go
# to files, so a leak in a server process cannot hide behind a passing
# test; narrow, commented suppressions for library one-time allocations
# are in tests/lsan.supp.
leakcheck:
	@rm -rf $(LEAK_REPORTS) && mkdir -p $(LEAK_REPORTS) && chmod 1777 $(LEAK_REPORTS)
	$(MAKE) BUILD=build/asan OPT="-O1 -fno-omit-frame-pointer" SAN="$(ASAN_SAN)" \
	  ASAN_OPTIONS=detect_leaks=1:log_path=$(LEAK_REPORTS)/report \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  PORTICO_LEAKCHECK=1 test-unit test-api-sqlite
	@if ls $(LEAK_REPORTS)/report.* >/dev/null 2>&1; then cat $(LEAK_REPORTS)/report.*; \
	  echo "leakcheck: sanitizer reports above ($(LEAK_REPORTS))" >&2; exit 1; fi
	@echo "leakcheck: no leaks"

format:
	clang-format -i server/*.c include/portico/*.h embed/*.c tests/unit/*.c tests/unit/*.h tests/fuzz/*.c

format-check:
	clang-format --dry-run --Werror server/*.c include/portico/*.h embed/*.c tests/unit/*.c tests/unit/*.h tests/fuzz/*.c

banned:
	@bash scripts/banned.sh

# No two modules in server/ may include each other, directly or in a circle.
include-cycles:
	@bash scripts/include-cycles.sh

lint-c:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Iinclude server/ embed/
	clang-tidy --quiet server/*.c embed/*.c -- -Iinclude -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE \
	  $(shell pkg-config --cflags $(PKGS)) 2>/dev/null

# Static checks: formatting, banned functions, include circles, cppcheck,
# UI lint and types.
verify-static: format-check banned include-cycles lint-c
	@cd ui && npm run --silent lint && npm run --silent typecheck

# Everything: the static checks, then the whole test suite.
verify: verify-static
	@$(MAKE) --no-print-directory test

bench: build
	@bash bench/run.sh

# Every fuzz target for FUZZ_SECONDS (default 60) each, from the committed
# seed corpora; findings are saved under build/fuzz/artifacts/.
fuzz: fuzz-build
	@bash tests/fuzz/run.sh

# The container image (needs a Docker engine) and offline checks of docker/.
docker:
	docker build -f docker/Dockerfile --build-arg PORTICO_VERSION=$(VERSION) \
	  -t portico:$(VERSION) -t portico:latest .

docker-check:
	@bash docker/check.sh

# A short deterministic run of every target (-seed=1, FUZZ_RUNS inputs each,
# capped at FUZZ_QUICK_SECONDS, default 10 s): part of `make test`.
test-fuzz: fuzz-build
	@bash tests/fuzz/run.sh --quick

clean:
	rm -rf build
