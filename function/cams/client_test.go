package cams

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/metrics"
)

// Recognizable credentials: no error string may ever contain them.
const (
	stsKeyID  = "STS.NTestKeyIdWhichIsSecret77"
	stsSecret = "Sts-Secret/Value+With=Chars"
	stsToken  = "CAIS+Token/Secret==ZZ9plural"
)

var day0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

type clientOpt func(*Options)

// newTestClient builds a client for srv whose backoff sleeps are recorded,
// not slept (the limiter still paces for real).
func newTestClient(t *testing.T, srv *camstest.Server, mods ...clientOpt) (*Client, *[]time.Duration) {
	t.Helper()
	o := Options{Endpoint: srv.URL(), AccessKeyID: camstest.AccessKeyID, AccessKeySecret: camstest.AccessKeySecret,
		QPS: 50, ReadTimeout: 5 * time.Second, ConnectTimeout: time.Second}
	for _, m := range mods {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	slept := &[]time.Duration{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*slept = append(*slept, d)
		mu.Unlock()
		return ctx.Err()
	}
	return c, slept
}

func buckets(lang string, days int, sent int64) []camstest.Bucket {
	var out []camstest.Bucket
	for i := 0; i < days; i++ {
		s := day0.AddDate(0, 0, i)
		out = append(out, camstest.Bucket{Language: lang, Start: s, End: s.AddDate(0, 0, 1), Sent: sent, Delivered: sent * 9 / 10,
			Read: sent / 2, Buttons: []metrics.Button{{Type: metrics.QuickReply, Text: "Shop now", Count: 7}, {Type: metrics.URLButton, Text: "Open", Count: 3}}})
	}
	return out
}

func query(tmpl string) Query {
	return Query{Template: tmpl, Granularity: metrics.Daily, Start: day0, End: day0.AddDate(0, 0, 10)}
}

func asAPIError(t *testing.T, err error) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return ae
}

func assertNoSecrets(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range append(secrets, camstest.AccessKeySecret, stsSecret, stsToken, stsKeyID) {
		if strings.Contains(s, sec) {
			t.Fatalf("error string leaks %q: %s", sec, s)
		}
	}
}

func TestMetricsSuccess(t *testing.T) {
	srv := camstest.New(t)
	srv.SetMetrics("T1", append(buckets("en", 20, 1000), buckets("id", 20, 300)...)...)
	c, _ := newTestClient(t, srv, func(o *Options) { o.CustSpaceID = "cams-space-1"; o.IsvCode = "isv-1" })
	got, err := c.Metrics(context.Background(), query("T1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Language != "en" || got[1].Language != "id" {
		t.Fatalf("series %v", got)
	}
	for _, s := range got {
		if s.Template != "T1" || len(s.Periods) != 10 || s.Granularity != metrics.Daily {
			t.Fatalf("series %s: %d periods", s.Key, len(s.Periods))
		}
		p := s.Periods[0]
		if !p.Start.Equal(day0) || !p.End.Equal(day0.AddDate(0, 0, 1)) || p.Clicks != 10 || len(p.Buttons) != 2 {
			t.Fatalf("period %+v", p)
		}
	}
	if calls, retries := c.Stats(); calls != 1 || retries != 0 {
		t.Fatalf("stats %d %d", calls, retries)
	}
	log := srv.Log()
	if len(log) != 1 {
		t.Fatalf("%d requests", len(log))
	}
	p := log[0].Params
	for k, want := range map[string]string{
		"Action": APIMetric, "Version": APIVersion, "TemplateCode": "T1", "Granularity": "DAILY", "TemplateType": "WHATSAPP",
		"Start": fmt.Sprint(day0.UnixMilli()), "End": fmt.Sprint(day0.AddDate(0, 0, 10).UnixMilli()),
		"CustSpaceId": "cams-space-1", "IsvCode": "isv-1", "RegionId": DefaultRegion, "SignatureMethod": "HMAC-SHA1",
	} {
		if got := p.Get(k); got != want {
			t.Errorf("param %s = %q, want %q", k, got, want)
		}
	}
	if p.Has("Language") || p.Has("SecurityToken") {
		t.Errorf("unexpected params: %v", p)
	}

	// Language filter is passed on.
	got, err = c.Metrics(context.Background(), Query{Template: "T1", Language: "id", Start: day0, End: day0.AddDate(0, 0, 3)})
	if err != nil || len(got) != 1 || got[0].Language != "id" || len(got[0].Periods) != 3 {
		t.Fatalf("language query: %v %v", got, err)
	}
}

func TestErrors(t *testing.T) {
	const tmpl = "1100T"
	tests := []struct {
		name      string
		server    []camstest.Option
		setup     func(*camstest.Server)
		client    []clientOpt
		code      string
		status    int
		retryable bool
		requests  int64 // requests the server saw
		ok        bool  // the call eventually succeeds
		panics    int64 // SDK panics recovered
	}{
		{name: "wrong secret is rejected by signature check, permanent",
			client: []clientOpt{func(o *Options) { o.AccessKeySecret = "wrong-" + camstest.AccessKeySecret + "-x" }},
			code:   "SignatureDoesNotMatch", status: 400, requests: 1},
		{name: "wrong secret with STS token, message holds the string to sign",
			server: []camstest.Option{camstest.WithCredentials(stsKeyID, stsSecret), camstest.WithSecurityToken(stsToken)},
			client: []clientOpt{func(o *Options) {
				o.AccessKeyID, o.AccessKeySecret, o.SecurityToken = stsKeyID, "Wrong"+stsSecret, stsToken
			}},
			code: "SignatureDoesNotMatch", status: 400, requests: 1},
		{name: "STS token passed and accepted",
			server: []camstest.Option{camstest.WithCredentials(stsKeyID, stsSecret), camstest.WithSecurityToken(stsToken)},
			client: []clientOpt{func(o *Options) { o.AccessKeyID, o.AccessKeySecret, o.SecurityToken = stsKeyID, stsSecret, stsToken }},
			ok:     true, requests: 1},
		{name: "STS key without its token",
			server: []camstest.Option{camstest.WithCredentials(stsKeyID, stsSecret), camstest.WithSecurityToken(stsToken)},
			client: []clientOpt{func(o *Options) { o.AccessKeyID, o.AccessKeySecret = stsKeyID, stsSecret }},
			code:   "MissingSecurityToken", status: 400, requests: 1},
		{name: "unknown access key",
			client: []clientOpt{func(o *Options) { o.AccessKeyID = "LTAInotknown" }},
			code:   "InvalidAccessKeyId.NotFound", status: 404, requests: 1},
		{name: "Ram.PermissionDeny is permanent, not retried",
			setup: func(s *camstest.Server) {
				s.Fail(tmpl, 400, "Ram.PermissionDeny", "You are not authorized to perform the operation.")
			},
			code: "Ram.PermissionDeny", status: 400, requests: 1},
		{name: "Product.Unsubscript is permanent",
			setup: func(s *camstest.Server) { s.Fail(tmpl, 400, "Product.Unsubscript", "You have not subscribed") },
			code:  "Product.Unsubscript", status: 400, requests: 1},
		{name: "Unknown.ResourceOwnerId is permanent",
			setup: func(s *camstest.Server) { s.Fail(tmpl, 400, "Unknown.ResourceOwnerId", "not yours") },
			code:  "Unknown.ResourceOwnerId", status: 400, requests: 1},
		{name: "Code != OK on HTTP 200 is an error",
			setup: func(s *camstest.Server) {
				s.Respond(tmpl, -1, 200, `{"RequestId":"R-200","Code":"Product.Unsubscript","Message":"You have not subscribed to the specified product.","Data":[]}`)
			},
			code: "Product.Unsubscript", status: 200, requests: 1},
		{name: "HTTP 200 throttle code is retried",
			setup: func(s *camstest.Server) {
				s.Respond(tmpl, 1, 200, `{"RequestId":"R","Code":"System.LimitControl","Message":"flow control"}`)
			},
			ok: true, requests: 2},
		{name: "System.LimitControl retried then succeeds",
			setup: func(s *camstest.Server) {
				s.FailTimes(tmpl, 3, 400, "System.LimitControl", "The system is under flow control.")
			},
			ok: true, requests: 4},
		{name: "5xx retried then succeeds",
			setup: func(s *camstest.Server) {
				s.FailTimes(tmpl, 1, 503, "ServiceUnavailable", "busy")
				s.FailTimes(tmpl, 1, 500, "InternalError", "oops")
			},
			ok: true, requests: 3},
		{name: "5xx gives up after MaxRetries, still retryable",
			setup:  func(s *camstest.Server) { s.Fail(tmpl, 500, "InternalError", "oops") },
			client: []clientOpt{func(o *Options) { o.MaxRetries = 2 }},
			code:   "InternalError", status: 500, retryable: true, requests: 3},
		{name: "MaxRetries negative: no retry",
			setup:  func(s *camstest.Server) { s.Fail(tmpl, 400, "System.LimitControl", "flow control") },
			client: []clientOpt{func(o *Options) { o.MaxRetries = -1 }},
			code:   "System.LimitControl", status: 400, retryable: true, requests: 1},
		{name: "error body that used to panic the SDK (AccessDeniedDetail string) never reaches it",
			setup: func(s *camstest.Server) {
				s.Respond(tmpl, -1, 400, `{"RequestId":"R-P","Code":"Ram.PermissionDeny","Message":"denied","AccessDeniedDetail":"None"}`)
			},
			code: "Ram.PermissionDeny", status: 400, requests: 1},
		{name: "error body that used to panic the SDK (numeric RequestId) on 5xx is retried",
			setup: func(s *camstest.Server) {
				s.Respond(tmpl, 2, 500, `{"RequestId":12345,"Code":"InternalError","Message":"x"}`)
			},
			ok: true, requests: 3},
		{name: "non-JSON 502 is retryable",
			setup:  func(s *camstest.Server) { s.Respond(tmpl, -1, 502, `<html><body>502 Bad Gateway</body></html>`) },
			client: []clientOpt{func(o *Options) { o.MaxRetries = 1 }},
			code:   "HTTP.502", status: 502, retryable: true, requests: 2},
		{name: "non-JSON 200 is an invalid response",
			setup: func(s *camstest.Server) { s.Respond(tmpl, -1, 200, `not json`) },
			code:  CodeInvalidResponse, status: 200, requests: 1},
		{name: "negative counts: partial data with an InvalidData error",
			setup: func(s *camstest.Server) {
				b := buckets("en", 2, 100)
				b[1].Sent = -4
				s.SetMetrics(tmpl, b...)
			},
			code: CodeInvalidData, status: 200, requests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := camstest.New(t, tc.server...)
			srv.SetMetrics(tmpl, buckets("en", 5, 100)...)
			if tc.setup != nil {
				tc.setup(srv)
			}
			c, slept := newTestClient(t, srv, tc.client...)
			got, err := c.Metrics(context.Background(), query(tmpl))
			if n := srv.Requests(); n != tc.requests {
				t.Errorf("server saw %d requests, want %d", n, tc.requests)
			}
			calls, retries := c.Stats()
			if calls != tc.requests || retries != tc.requests-1 {
				t.Errorf("stats calls=%d retries=%d, want %d/%d", calls, retries, tc.requests, tc.requests-1)
			}
			if n := c.panics.Load(); n != tc.panics {
				t.Errorf("%d SDK panics recovered, want %d", n, tc.panics)
			}
			if len(*slept) != int(tc.requests-1) {
				t.Errorf("%d backoff sleeps for %d retries", len(*slept), tc.requests-1)
			}
			if tc.ok {
				if err != nil || len(got) != 1 {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			ae := asAPIError(t, err)
			if ae.Code != tc.code || ae.HTTPStatus != tc.status || ae.Retryable() != tc.retryable {
				t.Fatalf("error %q: code %s status %d retryable %v; want %s %d %v", ae, ae.Code, ae.HTTPStatus, ae.Retryable(),
					tc.code, tc.status, tc.retryable)
			}
			if ae.Template != tmpl || ae.API != APIMetric || !strings.Contains(ae.Error(), tmpl) || !strings.Contains(ae.Error(), tc.code) {
				t.Fatalf("error does not name template and code: %q", ae)
			}
			assertNoSecrets(t, ae.Error()+ae.Message+fmt.Sprintf("%+v", *ae))
			if tc.code == CodeInvalidData && (len(got) != 1 || len(got[0].Periods) != 1) {
				t.Fatalf("partial data: %v", got)
			}
		})
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	srv := camstest.New(t)
	srv.Fail("T", 503, "ServiceUnavailable", "busy")
	c, slept := newTestClient(t, srv, func(o *Options) { o.MaxRetries = 8 })
	c.jitter = func() float64 { return 1 } // upper bound of the jitter
	if _, err := c.Metrics(context.Background(), query("T")); err == nil {
		t.Fatal("no error")
	}
	want := []time.Duration{200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	if len(*slept) != len(want) {
		t.Fatalf("slept %v", *slept)
	}
	for i, d := range *slept {
		if d != want[i]*time.Millisecond {
			t.Fatalf("backoff %d = %v, want %v (all: %v)", i, d, want[i]*time.Millisecond, *slept)
		}
	}
	c.jitter = func() float64 { return 0 }
	if d := c.backoff(0); d != 100*time.Millisecond {
		t.Fatalf("lower jitter bound %v", d)
	}
}

func TestThrottleSlowsTheLimiter(t *testing.T) {
	srv := camstest.New(t)
	srv.SetMetrics("T", buckets("en", 3, 10)...)
	srv.FailTimes("T", 1, 400, "System.LimitControl", "flow control")
	c, _ := newTestClient(t, srv, func(o *Options) { o.QPS = 40 })
	if _, err := c.Metrics(context.Background(), query("T")); err != nil {
		t.Fatal(err)
	}
	if r := c.Limiter().Rate(); r >= 40 {
		t.Fatalf("rate %v after throttling, want below the budget", r)
	}
}

func TestReadTimeout(t *testing.T) {
	srv := camstest.New(t, camstest.WithLatency(2*time.Second))
	srv.SetMetrics("T", buckets("en", 3, 10)...)
	c, _ := newTestClient(t, srv, func(o *Options) { o.ReadTimeout = 100 * time.Millisecond; o.MaxRetries = -1 })
	start := time.Now()
	_, err := c.Metrics(context.Background(), query("T"))
	ae := asAPIError(t, err)
	if ae.Code != CodeTimeout || !ae.Retryable() {
		t.Fatalf("error %v: code %s retryable %v", ae, ae.Code, ae.Retryable())
	}
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Fatalf("read timeout not applied: took %v", el)
	}
	assertNoSecrets(t, ae.Error())
}

func TestContextRespected(t *testing.T) {
	srv := camstest.New(t, camstest.WithLatency(3*time.Second))
	srv.SetMetrics("T", buckets("en", 3, 10)...)
	for _, tc := range []struct {
		name string
		read time.Duration
	}{
		{"deadline during a slow call", 10 * time.Second},
		{"deadline while retrying read timeouts", 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Endpoint: srv.URL(), AccessKeyID: camstest.AccessKeyID, AccessKeySecret: camstest.AccessKeySecret,
				ReadTimeout: tc.read}
			c, err := New(o) // real backoff sleeps
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = c.Metrics(ctx, query("T"))
			if el := time.Since(start); el > 1500*time.Millisecond {
				t.Fatalf("ctx not respected: took %v", el)
			}
			ae := asAPIError(t, err)
			if ae.Code != CodeDeadline && ae.Code != CodeTimeout {
				t.Fatalf("error %v", ae)
			}
			if ae.Code == CodeDeadline && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not unwrap to DeadlineExceeded", err)
			}
		})
	}
	// Canceled before the call: no request.
	c, _ := newTestClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := srv.Requests()
	_, err := c.Metrics(ctx, query("T"))
	if !errors.Is(err, context.Canceled) || srv.Requests() != before {
		t.Fatalf("canceled ctx: %v, %d requests", err, srv.Requests()-before)
	}
}

func TestTransportErrorsHideTheSignedURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := New(Options{Endpoint: "http://" + addr, AccessKeyID: stsKeyID, AccessKeySecret: stsSecret,
		SecurityToken: stsToken, MaxRetries: 1, ConnectTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(ctx context.Context, d time.Duration) error { return nil }
	_, err = c.Metrics(context.Background(), query("T"))
	ae := asAPIError(t, err)
	if ae.Code != CodeConnection || !ae.Retryable() {
		t.Fatalf("error %v: %s", ae, ae.Code)
	}
	if calls, retries := c.Stats(); calls != 2 || retries != 1 {
		t.Fatalf("stats %d/%d", calls, retries)
	}
	assertNoSecrets(t, ae.Error())
	if strings.Contains(ae.Error(), "Signature=") || strings.Contains(ae.Error(), "AccessKeyId") {
		t.Fatalf("signed URL in error: %v", ae)
	}
}

// TestRedirectNotFollowed: an endpoint that redirects does not get the
// signed request (nor its Referer) sent elsewhere; the error is permanent.
func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		t.Errorf("redirect followed: %s, Referer %q", r.URL.Path, r.Referer())
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer redirector.Close()
	c, err := New(Options{Endpoint: redirector.URL, AccessKeyID: stsKeyID, AccessKeySecret: stsSecret, SecurityToken: stsToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Metrics(context.Background(), query("T"))
	ae := asAPIError(t, err)
	if ae.Code != CodeRedirect || ae.Retryable() || elsewhere.Load() != 0 {
		t.Fatalf("error %v (%s, retryable %v); %d requests elsewhere", ae, ae.Code, ae.Retryable(), elsewhere.Load())
	}
	if calls, _ := c.Stats(); calls != 1 {
		t.Errorf("%d calls, want 1 (not retried)", calls)
	}
	assertNoSecrets(t, ae.Error())
}

// TestSigningParamsRedacted: an error that quotes the signed query without a
// scheme (a path, a gateway's log line) loses its signing parameters.
func TestSigningParamsRedacted(t *testing.T) {
	r := newRedactor(stsSecret, stsToken, stsKeyID)
	got := r.clean("bad request for /?AccessKeyId=LTAIzzzz&Action=X&Signature=abc%2Bdef%3D&SignatureNonce=n-1&SecurityToken=tok")
	for _, leak := range []string{"LTAIzzzz", "abc%2Bdef", "n-1", "tok"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q kept in %q", leak, got)
		}
	}
	if !strings.Contains(got, "Action=X") {
		t.Errorf("other parameters lost: %q", got)
	}
}

func TestNewValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want []string
	}{
		{"no credentials", Options{}, []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}},
		{"no secret", Options{AccessKeyID: stsKeyID, SecurityToken: stsToken}, []string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET"}},
		{"bad endpoint", Options{AccessKeyID: "a", AccessKeySecret: stsSecret, Endpoint: "ftp://x"}, []string{"endpoint"}},
		{"endpoint with query", Options{AccessKeyID: "a", AccessKeySecret: stsSecret, Endpoint: "https://h/?token=" + stsToken}, []string{"endpoint"}},
		{"bad region", Options{AccessKeyID: "a", AccessKeySecret: stsSecret, Region: "ap south!"}, []string{"region"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not mention %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "ALIBABA_CLOUD_ACCESS_KEY_SECRET") == false && tc.name == "no secret" {
				t.Error("secret variable not named")
			}
			assertNoSecrets(t, err.Error())
		})
	}
	c, err := New(Options{AccessKeyID: "a", AccessKeySecret: stsSecret})
	if err != nil {
		t.Fatal(err)
	}
	if c.scheme != "HTTPS" || c.domain != "cams.ap-southeast-1.aliyuncs.com" || c.opts.QPS != DefaultQPS || c.maxRetries != DefaultMaxRetries {
		t.Fatalf("defaults: %s %s %d %d", c.scheme, c.domain, c.opts.QPS, c.maxRetries)
	}
	c, _ = New(Options{AccessKeyID: "a", AccessKeySecret: stsSecret, Endpoint: "http://127.0.0.1:9000", QPS: 500})
	if c.scheme != "HTTP" || c.domain != "127.0.0.1:9000" || c.opts.QPS != MaxQPS {
		t.Fatalf("http endpoint: %s %s %d", c.scheme, c.domain, c.opts.QPS)
	}
}

func TestListTemplates(t *testing.T) {
	var ts []camstest.Template
	want := map[string]bool{}
	for i := 0; i < 130; i++ {
		tpl := camstest.Template{Code: fmt.Sprintf("1100%04d", i), Name: fmt.Sprintf("t%d", i), Language: "en",
			Category: "MARKETING", AuditStatus: "pass", Type: "WHATSAPP"}
		switch i % 6 {
		case 1:
			tpl.Category = "UTILITY"
		case 2:
			tpl.AuditStatus = "auditing"
		case 3:
			tpl.AuditStatus = "APPROVED"
		case 4:
			tpl.Type = "VIBER"
		case 5:
			tpl.AuditStatus = "fail"
		}
		if i%6 == 0 || i%6 == 3 {
			want[tpl.Code] = true
		}
		ts = append(ts, tpl)
	}
	for _, tc := range []struct {
		name         string
		serverFilter bool
		pages        int
		want         int
	}{
		// Without server-side filtering all 130 come back in 3 pages and
		// the client filters them itself.
		{"client-side filtering", false, 3, len(want)},
		// The API filters AuditStatus=pass exactly: "APPROVED" ones are
		// not listed then, in 1 page.
		{"server-side filtering", true, 1, 22},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := camstest.New(t, camstest.WithListFilters(tc.serverFilter))
			srv.SetTemplates(ts...)
			c, _ := newTestClient(t, srv)
			got, err := c.ListTemplates(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Fatalf("%d templates, want %d", len(got), tc.want)
			}
			for _, g := range got {
				if !want[g.Code] {
					t.Fatalf("unexpected template %+v", g)
				}
			}
			log := srv.Log()
			if len(log) != tc.pages {
				t.Fatalf("%d pages requested, want %d", len(log), tc.pages)
			}
			for i, r := range log {
				if page := fmt.Sprintf(`{"Index":%d,"Size":50}`, i+1); r.Params.Get("Page") != page {
					t.Fatalf("Page param %q, want %q", r.Params.Get("Page"), page)
				}
				if r.Action != APITemplates || r.Params.Get("AuditStatus") != "pass" || r.Params.Get("Category") != "MARKETING" {
					t.Fatalf("params %v", r.Params)
				}
			}
		})
	}
	t.Run("error names the API", func(t *testing.T) {
		srv := camstest.New(t)
		srv.Fail(camstest.ListKey, 400, "Ram.PermissionDeny", "denied")
		c, _ := newTestClient(t, srv)
		_, err := c.ListTemplates(context.Background())
		ae := asAPIError(t, err)
		if ae.Code != "Ram.PermissionDeny" || ae.API != APITemplates || !strings.Contains(ae.Error(), APITemplates) || srv.Requests() != 1 {
			t.Fatalf("%v", ae)
		}
	})
}

func TestListTemplatesRateLimited(t *testing.T) {
	srv := camstest.New(t, camstest.WithListFilters(false))
	var ts []camstest.Template
	for i := 0; i < 50*7; i++ {
		ts = append(ts, camstest.Template{Code: fmt.Sprint(i), Category: "MARKETING", AuditStatus: "pass"})
	}
	srv.SetTemplates(ts...)
	c, _ := newTestClient(t, srv)
	start := time.Now()
	got, err := c.ListTemplates(context.Background())
	if err != nil || len(got) != 350 {
		t.Fatalf("%d, %v", len(got), err)
	}
	// 7 pages at 5 per second: at least 6 intervals of 200ms.
	if el := time.Since(start); el < 1100*time.Millisecond {
		t.Fatalf("7 pages took %v: ListChatappTemplate is not held to 5 QPS", el)
	}
}

func TestConcurrentUnderServerQPS(t *testing.T) {
	srv := camstest.New(t, camstest.WithQPS(30))
	const n = 24
	for i := 0; i < n; i++ {
		srv.SetMetrics(fmt.Sprint("T", i), buckets("en", 5, 100)...)
	}
	c, _ := newTestClient(t, srv, func(o *Options) { o.QPS = 20; o.MaxRetries = 6 })
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := c.Metrics(context.Background(), query(fmt.Sprint("T", i)))
			if err == nil && (len(s) != 1 || len(s[0].Periods) != 5) {
				err = fmt.Errorf("T%d: %v", i, s)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	calls, _ := c.Stats()
	if calls != srv.Requests() {
		t.Fatalf("client counted %d calls, server saw %d", calls, srv.Requests())
	}
	if srv.Throttled() != 0 {
		t.Fatalf("client at 20 QPS was throttled %d times by a 30 QPS server", srv.Throttled())
	}
}

func TestRandomThrottlingRecovers(t *testing.T) {
	srv := camstest.New(t, camstest.WithThrottle(0.3), camstest.WithSeed(42))
	const n = 30
	for i := 0; i < n; i++ {
		srv.SetMetrics(fmt.Sprint("T", i), buckets("en", 2, 100)...)
	}
	c, _ := newTestClient(t, srv, func(o *Options) { o.MaxRetries = 10 })
	var wg sync.WaitGroup
	var failed sync.Map
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := c.Metrics(context.Background(), query(fmt.Sprint("T", i))); err != nil {
				failed.Store(i, err)
			}
		}(i)
	}
	wg.Wait()
	failed.Range(func(k, v any) bool { t.Errorf("T%v: %v", k, v); return true })
	calls, retries := c.Stats()
	if retries == 0 || retries != srv.Throttled() || calls != n+retries {
		t.Fatalf("calls %d retries %d, server throttled %d", calls, retries, srv.Throttled())
	}
}

func TestRecordedFixturesThroughServer(t *testing.T) {
	srv := camstest.New(t)
	if err := srv.LoadDir(fixtures); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestClient(t, srv)
	r := &Replay{Dir: fixtures}
	q := Query{Template: "1100AB0001", Granularity: metrics.Daily, Start: day0.AddDate(0, 0, 5), End: day0.AddDate(0, 0, 12)}
	live, err := c.Metrics(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := r.Metrics(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(live) != fmt.Sprint(replayed) || len(live) != 2 || len(live[0].Periods) != 7 {
		t.Fatalf("server and replay differ:\n%v\n%v", live, replayed)
	}
	_, err = c.Metrics(context.Background(), Query{Template: "1100AB0003", Start: day0, End: day0.AddDate(0, 0, 30)})
	if ae := asAPIError(t, err); ae.Code != CodePermissionDenied || ae.Retryable() {
		t.Fatalf("recorded permission error: %v", ae)
	}
	tpls, err := c.ListTemplates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The server filters AuditStatus=pass: the APPROVED one is not listed.
	if len(tpls) != 2 || tpls[0].Code != "1100AB0001" || tpls[1].Code != "1100AB0003" {
		t.Fatalf("templates %+v", tpls)
	}
}
