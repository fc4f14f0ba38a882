# cams-alert. `make run` replays the bundled sample (no credentials, no network);
# `make test` is what CI runs.
GO        ?= go
PKGS      := ./...
SAMPLE_AT ?= 2026-11-24T09:00:00+08:00
FUZZTIME  ?= 3s

.PHONY: all build run test unit ruletest lint fuzz-brief fuzz bench package deploy deploy-check quality clean

all: lint test build

## build: dist/main, the FC handler (linux/amd64, static, stripped)
build:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o dist/main ./function

## run: one dry-run cycle over the bundled sample in testdata/sample, printed to the terminal
run:
	CAMS_ENDPOINT=file://testdata/sample RULES_PATH=rules STATE_DIR=.state \
	SLACK_WEBHOOK_URL= SLACK_BOT_TOKEN= SLACK_CHANNEL= DINGTALK_WEBHOOK_URL= DINGTALK_SECRET= \
	$(GO) run ./function run --dry-run --at $(SAMPLE_AT)

## test: lint, unit and end-to-end tests, the shipped rules' own tests, brief fuzzing
test: lint unit ruletest fuzz-brief

unit:
	$(GO) test -count=1 $(PKGS)

ruletest:
	$(GO) run ./function test

lint:
	@out=$$(gofmt -l function); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Each fuzz target for FUZZTIME; `make fuzz FUZZTIME=5m` for a longer hunt.
fuzz-brief fuzz:
	@set -e; for pkg in $$($(GO) list ./function/...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 0 $$pkg > /dev/null; \
	  done; \
	done

fuzz: FUZZTIME = 2m

## bench: performance ratios (API rate vs QPS, evaluations/s, bytes/template)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -count 1 $(PKGS)

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
	DINGTALK_SECRET=SECDUMMY

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

clean:
	rm -rf dist .state
