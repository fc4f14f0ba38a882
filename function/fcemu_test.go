package main

// An FC runtime API emulator: the function's real entry point (fc.Start
// with dispatch) polls it for invocations as it polls FC, and an HTTP
// gateway turns browser or Slack requests into FC 3.0 HTTP trigger events
// through it, the way FC's HTTP trigger does. The SDK (v0.3.1) calls
// GET /2020-11-11/runtime/invocation/next and POSTs the handler's result to
// …/invocation/{id}/response or …/{id}/error; any API version is accepted.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
)

type fcInvocation struct {
	id      string
	payload []byte
	creds   [3]string // access key id, secret, STS token
	done    chan fcResult
}

type fcResult struct {
	ok   bool // /response, not /error
	body []byte
}

type fcEmu struct {
	queue    chan *fcInvocation
	mu       sync.Mutex
	inflight map[string]*fcInvocation
	seq      atomic.Int64
	ready    chan struct{}
	once     sync.Once
}

var (
	emuOnce sync.Once
	emu     *fcEmu
	// emuMu gives one test at a time the function behind the emulator;
	// emuApp is that test's app (its environment and knobs).
	emuMu  sync.Mutex
	emuApp atomic.Pointer[app]
)

// startFCEmu gives the test the emulator, with fc.Start polling it and
// handing every invocation to a's dispatch, until the test ends. The
// emulator and fc.Start start once per test binary and are never stopped:
// fc.Start's loop never returns and retries without pause when its runtime
// API goes away.
func startFCEmu(t *testing.T, a *app) *fcEmu {
	t.Helper()
	emuMu.Lock()
	emuApp.Store(a)
	t.Cleanup(emuMu.Unlock)
	emuOnce.Do(func() {
		e, addr := newFCEmu()
		os.Setenv("FC_RUNTIME_API", addr)
		go fc.Start(func(ctx context.Context, payload []byte) (any, error) {
			return emuApp.Load().dispatch(ctx, payload)
		})
		select {
		case <-e.ready:
		case <-time.After(10 * time.Second):
			panic("fc.Start never asked the emulated runtime API for an invocation")
		}
		// The loop has read it; nothing else reads the process environment.
		os.Unsetenv("FC_RUNTIME_API")
		emu = e
	})
	return emu
}

// newFCEmu starts an emulated runtime API and returns it and its address
// (FC_RUNTIME_API's value). Its server is never closed (see startFCEmu).
func newFCEmu() (*fcEmu, string) {
	e := &fcEmu{queue: make(chan *fcInvocation), inflight: map[string]*fcInvocation{}, ready: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{version}/runtime/invocation/next", e.next)
	mux.HandleFunc("POST /{version}/runtime/invocation/{id}/response", e.result(true))
	mux.HandleFunc("POST /{version}/runtime/invocation/{id}/error", e.result(false))
	srv := httptest.NewServer(mux)
	return e, strings.TrimPrefix(srv.URL, "http://")
}

func (e *fcEmu) next(w http.ResponseWriter, r *http.Request) {
	e.once.Do(func() { close(e.ready) })
	var inv *fcInvocation
	select {
	case inv = <-e.queue:
	case <-r.Context().Done():
		return
	}
	e.mu.Lock()
	e.inflight[inv.id] = inv
	e.mu.Unlock()
	h := w.Header()
	h.Set("x-fc-request-id", inv.id)
	h.Set("x-fc-function-deadline", strconv.FormatInt(time.Now().Add(10*time.Minute).UnixMilli(), 10))
	h.Set("x-fc-function-timeout", "600")
	h.Set("x-fc-function-name", "cams-alert")
	h.Set("x-fc-function-handler", "main")
	h.Set("x-fc-region", "ap-southeast-1")
	h.Set("x-fc-access-key-id", inv.creds[0])
	h.Set("x-fc-access-key-secret", inv.creds[1])
	h.Set("x-fc-security-token", inv.creds[2])
	_, _ = w.Write(inv.payload)
}

func (e *fcEmu) result(ok bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		inv := e.inflight[r.PathValue("id")]
		delete(e.inflight, r.PathValue("id"))
		e.mu.Unlock()
		if inv == nil {
			http.Error(w, "no such invocation", http.StatusNotFound)
			return
		}
		inv.done <- fcResult{ok: ok, body: body}
	}
}

// invoke hands payload to the function as FC would and waits for its result.
func (e *fcEmu) invoke(ctx context.Context, payload []byte, creds [3]string) (fcResult, error) {
	inv := &fcInvocation{id: fmt.Sprintf("req-%d", e.seq.Add(1)), payload: payload, creds: creds, done: make(chan fcResult, 1)}
	select {
	case e.queue <- inv:
	case <-ctx.Done():
		return fcResult{}, ctx.Err()
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-ctx.Done():
		return fcResult{}, ctx.Err()
	}
}

// timer invokes the timer trigger at triggerTime and returns the summary.
func (e *fcEmu) timer(t *testing.T, at time.Time, creds [3]string) (map[string]any, fcResult) {
	t.Helper()
	ev, _ := json.Marshal(events.TimerEvent{TriggerTime: ptrTo(at.UTC().Format(time.RFC3339)),
		TriggerName: ptrTo("daily"), Payload: ptrTo("")})
	res, err := e.invoke(t.Context(), ev, creds)
	if err != nil {
		t.Fatalf("timer invocation: %v", err)
	}
	var sum map[string]any
	if res.ok {
		if err := json.Unmarshal(res.body, &sum); err != nil {
			t.Fatalf("timer invocation returned %s: %v", res.body, err)
		}
	}
	return sum, res
}

func ptrTo[T any](v T) *T { return &v }

// gateway is FC's HTTP trigger in front of the emulator: each request
// becomes an FC 3.0 HTTP event (header names capitalised, the body base64),
// and the handler's events.HTTPTriggerResponse becomes the response.
func (e *fcEmu) gateway(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		headers := map[string]string{}
		for k, v := range r.Header {
			headers[http.CanonicalHeaderKey(k)] = strings.Join(v, ",")
		}
		query := map[string]string{}
		for k, v := range r.URL.Query() {
			query[k] = v[0]
		}
		ev := map[string]any{"version": "v1", "rawPath": r.URL.Path, "headers": headers, "queryParameters": query,
			"body": base64.StdEncoding.EncodeToString(body), "isBase64Encoded": true,
			"requestContext": map[string]any{"accountId": "1234567890", "domainName": r.Host, "requestId": "gw",
				"http": map[string]any{"method": r.Method, "path": r.URL.Path, "protocol": r.Proto, "sourceIp": "127.0.0.1", "userAgent": r.UserAgent()},
				"time": time.Now().UTC().Format(time.RFC3339), "timeEpoch": strconv.FormatInt(time.Now().UnixMilli(), 10)}}
		payload, _ := json.Marshal(ev)
		res, err := e.invoke(r.Context(), payload, [3]string{})
		if err != nil || !res.ok {
			http.Error(w, fmt.Sprintf("invocation failed: %v %s", err, res.body), http.StatusBadGateway)
			return
		}
		var resp events.HTTPTriggerResponse
		if err := json.Unmarshal(res.body, &resp); err != nil {
			http.Error(w, "not an HTTPTriggerResponse: "+string(res.body), http.StatusBadGateway)
			return
		}
		out := []byte(resp.Body)
		if resp.IsBase64Encoded {
			out, _ = base64.StdEncoding.DecodeString(resp.Body)
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, bytes.NewReader(out))
	}))
	t.Cleanup(srv.Close)
	return srv
}
