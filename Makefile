# cams-alert. `make run` replays the bundled sample (no credentials, no network);
# `make test` is what CI runs.
GO        ?= go
PKGS      := ./...
SAMPLE_AT ?= 2026-11-24T09:00:00+08:00
FUZZTIME  ?= 3s

.PHONY: preview all build run test unit ruletest lint fuzz-brief fuzz bench bench-summary package deploy deploy-check quality clean

all: lint test build

## build: dist/main, the FC handler (linux/amd64, static, stripped)
build:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o dist/main ./function

## run: one dry-run cycle over the bundled sample in testdata/sample, printed to the terminal
run:
	CAMS_ENDPOINT=file://testdata/sample RULES_PATH=rules STATE_DIR=.state \
	SLACK_WEBHOOK_URL= SLACK_BOT_TOKEN= SLACK_CHANNEL= DINGTALK_WEBHOOK_URL= DINGTALK_SECRET= \
	$(GO) run ./function run --dry-run --at $(SAMPLE_AT)

## preview: the sample messages as people see them: Slack (a Block Kit approximation) and DingTalk (markdown)
## in en and zh-CN, for each state, as HTML and headless-Chromium screenshots at phone and desktop width in dist/preview
preview:
	$(GO) run ./function/notify/preview -out dist/preview

## test: lint, unit and end-to-end tests, the shipped rules' own tests, the alert-quality targets, brief fuzzing
test: lint unit ruletest quality fuzz-brief

unit:
	$(GO) test -count=1 $(PKGS)

ruletest:
	$(GO) run ./function test

lint:
	@out=$$(gofmt -l function); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Each fuzz target for FUZZTIME; `make fuzz FUZZTIME=5m` for a longer hunt.
# Go 1.26's fuzzing engine can stop with "context deadline exceeded" and no
# failing input (golang/go#75804, fixed in 1.27): such a run is tried once
# more; a run that wrote a failing input, or fails twice, fails the target.
fuzz-brief fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for pkg in $$($(GO) list ./function/...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    for try in 1 2; do \
	      if $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 0 $$pkg > "$$log" 2>&1; then break; fi; \
	      if [ $$try = 1 ] && grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
	        echo "  engine stopped without a failing input (golang/go#75804): once more"; continue; fi; \
	      cat "$$log"; exit 1; \
	    done; \
	  done; \
	done

fuzz: FUZZTIME = 2m

## bench: performance ratios (API rate vs QPS, memory at 1k/10k templates, cold start, binary size);
## raw output in dist/bench.txt, then a summary against the targets (about 2 minutes);
## fails when a benchmark fails or a target is missed
BENCH_OUT ?= dist/bench.txt
bench:
	@mkdir -p $(dir $(BENCH_OUT))
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -benchtime 1x -count 1 $(PKGS) 2>&1 | tee $(BENCH_OUT)
	@$(MAKE) --no-print-directory bench-summary

## bench-summary: the summary of an existing $(BENCH_OUT), without running the benchmarks again
bench-summary:
	@awk "$$BENCH_SUMMARY" $(BENCH_OUT)
	@if grep -Eq '^(FAIL|panic:|--- FAIL)' $(BENCH_OUT); then echo "  a benchmark failed: see $(BENCH_OUT)"; exit 1; fi

# The summary of `make bench`: every figure of every benchmark, and the
# targets checked (ok / MISS; see docs/performance.md). A missed target, or a
# figure missing from the output (a benchmark that failed or was renamed),
# makes the command fail.
define BENCH_SUMMARY
function check(cond, text) { printf "  %-4s %s\n", (cond ? "ok" : "MISS"), text; if (!cond) miss++ }
function has(name, unit) { if ((name, unit) in seen) return 1; absent = absent " " name " " unit; return 0 }
/^Benchmark/ {
	name = $$1; sub(/-[0-9]+$$/, "", name); sub(/^Benchmark/, "", name)
	line = ""
	for (i = 3; i < NF; i += 2) {
		seen[name, $$(i+1)] = 1
		if ($$(i+1) == "allocs/op" || $$(i+1) == "B/op") v[name, $$(i+1)] = $$i
		if ($$(i+1) == "ns/op" || $$(i+1) == "B/op" || $$(i+1) == "allocs/op") continue
		v[name, $$(i+1)] = $$i; line = line sprintf("  %s %s", $$(i+1), $$i)
	}
	if (line != "") rows[++n] = sprintf("%-28s%s", name, line)
}
END {
	print ""; print "== make bench: summary (raw output in " FILENAME ")"
	for (i = 1; i <= n; i++) print rows[i]
	print ""; print "== targets"
	r0 = "FetchRate/throttle=0"; r20 = "FetchRate/throttle=20%"
	check(has(r0, "ok/qps") && v[r0, "ok/qps"] >= 0.95, sprintf("fetch rate / 50 QPS, no throttling: %s template fetches/s / 50 >= 0.95 (requests/s / 50: %s)", v[r0, "ok/qps"], v[r0, "req/qps"]))
	check(has(r20, "req/qps") && v[r20, "req/qps"] >= 0.95, sprintf("20%% throttled at random: requests/s / 50 = %s >= 0.95 (the budget is used)", v[r20, "req/qps"]))
	check(has(r20, "ok/ceiling") && v[r20, "ok/ceiling"] >= 0.95, sprintf("20%% throttled at random: fetches/s / 50 = %s, / its ceiling 0.8 = %s >= 0.95", v[r20, "ok/qps"], v[r20, "ok/ceiling"]))
	check(has(r0, "lost") && has(r20, "lost") && has("EvaluateMemory", "lost") && v[r0, "lost"] == 0 && v[r20, "lost"] == 0 && v["EvaluateMemory", "lost"] == 0, sprintf("templates lost: %d, %d (throttled), %d (memory runs) == 0", v[r0, "lost"], v[r20, "lost"], v["EvaluateMemory", "lost"]))
	m = "EvaluateMemory"
	check(has(m, "heap-max-MiB") && v[m, "heap-max-MiB"] < 64, sprintf("peak heap in use %s MiB (1k templates), %s MiB (10k), highest %s MiB < 64 MiB", v[m, "heap-1k-MiB"], v[m, "heap-10k-MiB"], v[m, "heap-max-MiB"]))
	check(has(m, "heap-10k/1k") && v[m, "heap-10k/1k"] >= 0.9 && v[m, "heap-10k/1k"] <= 1.1, sprintf("flat: peak heap 10k / 1k = %s within 10%%", v[m, "heap-10k/1k"]))
	e = "Evaluate"
	check(has(e, "ms/set") && v[e, "ms/set"] < 100, sprintf("rule evaluation, 10,000 templates x 30 periods x 10 rules on one core: %s ms per set (fastest of 5; median %s) < 100 ms (%s evaluations/s, %s allocations and %s bytes per set)", v[e, "ms/set"], v[e, "ms/set-median"], v[e, "evaluations/s"], v[e, "allocs/set"], v[e, "B/set"]))
	c = "ColdStart"
	check(has(c, "first-request-ms") && v[c, "first-request-ms"] < 50, sprintf("cold start to the first API request %s ms (slowest of the runs %s ms) < 50 ms", v[c, "first-request-ms"], v[c, "first-request-max-ms"]))
	check(has(c, "binary-MB") && v[c, "binary-MB"] < 20, sprintf("dist/main %s MB < 20 MB", v[c, "binary-MB"]))
	if (absent != "") print "  not in the output:" absent
	if (miss) { print "  " miss " target(s) missed"; exit 1 }
}
endef
export BENCH_SUMMARY

## package: dist/code.zip for s deploy: main (linux/amd64) and rules/ at its root (no `zip` needed)
package: build
	$(GO) run ./function/tools/zip -o dist/code.zip dist/main=main rules=rules

# Serverless Devs, pinned; s.yaml's pre-deploy action runs `make package`.
S ?= npx --yes @serverless-devs/s@3.1.10

## deploy: s deploy with your `s config add` credentials (needs the internet; never run in CI)
deploy:
	$(S) deploy -y

# Inputs for `s preview` in deploy-check: recognisable DUMMY values shaped like real ones.
PREVIEW_ENV := STATE_BUCKET=dummy-state-bucket \
	SLACK_WEBHOOK_URL=https://hooks.slack.invalid/services/TDUMMY/BDUMMY/DUMMY \
	SLACK_BOT_TOKEN=xoxb-DUMMY SLACK_CHANNEL=C0DUMMY \
	DINGTALK_WEBHOOK_URL='https://oapi.dingtalk.invalid/robot/send?access_token=DUMMY' \
	DINGTALK_SECRET=SECDUMMY \
	ACTION_URL=https://actions.example.invalid ACTION_SECRET=DUMMY-action-secret-0123456789abcdef \
	SLACK_SIGNING_SECRET=DUMMYslackSigningSecret0123

## deploy-check: render s.yaml with `s preview` (no credentials), validate it against the fc3 schema,
## check it against the config and the RAM policy, and check dist/code.zip (CI runs it; installs Node.js if missing)
deploy-check: package
	@command -v npx >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "deploy-check: installing Node.js and npm (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	  else echo "deploy-check needs Node.js 18+ with npx: install nodejs and npm"; exit 1; fi; }
	@echo "s preview (temporary HOME, no credentials, dummy secrets) > dist/preview.json"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cp s.yaml "$$tmp/" && \
	cache=$$(npm config get cache 2>/dev/null) && userconfig=$$(npm config get userconfig 2>/dev/null) && \
	( cd "$$tmp" && env -u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABA_CLOUD_ACCESS_KEY_SECRET -u ALIBABA_CLOUD_SECURITY_TOKEN \
	    HOME="$$tmp" npm_config_cache="$$cache" npm_config_userconfig="$$userconfig" npm_config_update_notifier=false \
	    $(PREVIEW_ENV) $(S) preview -o json --silent ) > dist/preview.json || { cat dist/preview.json; exit 1; }
	$(PREVIEW_ENV) CAMS_ALERT_PREVIEW=$(CURDIR)/dist/preview.json CAMS_ALERT_ZIP=$(CURDIR)/dist/code.zip \
	  $(GO) test -count=1 -v ./function/deploy

## quality: alert-quality benchmark: the shipped rules over synthetic campaigns with labelled incidents,
## 5 seeds of each traffic profile (binomial, and real: rates that move from day to day and by weekday);
## prints recall and false alerts per 1,000 template-days, fails when a target is missed
quality:
	$(GO) run ./function/quality/cmd/quality -rules rules -seeds 1,2,3,4,5 -profiles binomial,real

clean:
	rm -rf dist .state
