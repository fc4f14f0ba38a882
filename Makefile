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
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg > /dev/null; \
	  done; \
	done

fuzz: FUZZTIME = 2m

## bench: performance ratios (API rate vs QPS, evaluations/s, bytes/template)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -count 1 $(PKGS)

## package: dist/code.zip with main at its root, for s deploy
package: build
	cd dist && rm -f code.zip && mkdir -p pkg && cp main pkg/main && cp -r ../rules pkg/rules && cd pkg && zip -qr ../code.zip main rules

## deploy: s deploy (needs credentials and the internet; never run in CI)
deploy: package
	npx --yes @serverless-devs/s@3.1.10 deploy -y

clean:
	rm -rf dist .state
