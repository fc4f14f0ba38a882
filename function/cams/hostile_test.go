package cams

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/metrics"
)

// goodBody is a real answer for template T: 5 days from day0.
func goodBody() []byte {
	var b strings.Builder
	b.WriteString(`{"RequestId":"R-GOOD","Code":"OK","Message":"None","Data":[`)
	for i := 0; i < 5; i++ {
		s := day0.AddDate(0, 0, i)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"TemplateCode":"T","Language":"en","Start":%d,"End":%d,"SentCount":100,"DeliveredCount":90,"ReadCount":40}`,
			s.UnixMilli(), s.AddDate(0, 0, 1).UnixMilli())
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestHostileResponses: a response too big, too many buckets, a connection
// dropped mid-body or a stalled body each end as a clear error (or a
// retry), in the time of one read timeout at most, naming the template.
func TestHostileResponses(t *testing.T) {
	const tmpl = "T"
	tests := []struct {
		name      string
		handler   func(t *testing.T) camstest.Handler
		times     int // answers of the handler (<0: all)
		code      string
		msgHas    string
		requests  int64
		retryable bool
	}{
		{name: "1 GB body with its Content-Length: refused before reading",
			handler: func(*testing.T) camstest.Handler { return camstest.HugeBody(1<<30, true) }, times: -1,
			code: CodeTooLarge, msgHas: "response body of 1073741824 bytes exceeds the 8 MiB limit", requests: 1},
		{name: "1 GB chunked body: reading stops at the limit",
			handler: func(*testing.T) camstest.Handler { return camstest.HugeBody(1<<30, false) }, times: -1,
			code: CodeTooLarge, msgHas: "exceeds the 8 MiB limit (reading stopped there)", requests: 1},
		{name: "a million buckets: decoding stops at the cap",
			handler: func(*testing.T) camstest.Handler { return camstest.ManyBuckets(tmpl, 1_000_000, 1, day0) }, times: -1,
			code: CodeTooManyBuckets, msgHas: "more than 1000 buckets", requests: 1},
		{name: "connection dropped mid-body (Content-Length): retried",
			handler: func(t *testing.T) camstest.Handler { b := goodBody(); return camstest.DropMidBody(b, len(b)/2, false) },
			times:   1, requests: 2},
		{name: "connection dropped mid-body (close-delimited): retried",
			handler: func(t *testing.T) camstest.Handler { b := goodBody(); return camstest.DropMidBody(b, len(b)/2, true) },
			times:   1, requests: 2},
		{name: "connection always dropped: retryable error after the retries",
			handler: func(t *testing.T) camstest.Handler { b := goodBody(); return camstest.DropMidBody(b, 100, false) },
			times:   -1, code: CodeConnection, msgHas: "reading the response body", requests: 3, retryable: true},
		{name: "close-delimited cut always: retryable error after the retries",
			handler: func(t *testing.T) camstest.Handler { b := goodBody(); return camstest.DropMidBody(b, 100, true) },
			times:   -1, code: CodeConnection, msgHas: "connection dropped mid-body: response ends after 100 bytes", requests: 3, retryable: true},
		{name: "body stalls: read timeout, retryable",
			handler: func(t *testing.T) camstest.Handler { return stall(goodBody()) },
			times:   -1, code: CodeTimeout, requests: 3, retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := camstest.New(t)
			srv.SetMetrics(tmpl, buckets("en", 5, 100)...)
			srv.Handle(tmpl, tc.times, tc.handler(t))
			c, _ := newTestClient(t, srv, func(o *Options) { o.MaxRetries = 2; o.ReadTimeout = 300 * time.Millisecond })
			series, err := c.Metrics(context.Background(), query(tmpl))
			if n := srv.Requests(); n != tc.requests {
				t.Errorf("server saw %d requests, want %d", n, tc.requests)
			}
			if tc.code == "" {
				if err != nil || len(series) != 1 || len(series[0].Periods) != 5 {
					t.Fatalf("got %v, %v; want the 5 days after a retry", series, err)
				}
				return
			}
			ae := asAPIError(t, err)
			if ae.Code != tc.code || ae.Retryable() != tc.retryable || !strings.Contains(ae.Message, tc.msgHas) {
				t.Fatalf("error %q (code %s, retryable %v), want %s with %q, retryable %v", ae, ae.Code, ae.Retryable(),
					tc.code, tc.msgHas, tc.retryable)
			}
			if ae.Template != tmpl || !strings.Contains(ae.Error(), "template "+tmpl) {
				t.Fatalf("error does not name the template: %q", ae)
			}
		})
	}
}

// stall answers with the first half of body, then nothing until the client
// gives up.
func stall(body []byte) camstest.Handler {
	return func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(200)
		w.Write(body[:len(body)/2])
		http.NewResponseController(w).Flush()
		time.Sleep(2 * time.Second)
	}
}

// TestEchoedSecretsRedacted: a server that echoes the request's STS token,
// key id (and signature) in every field of its answer gets none of them
// into an error, a series or a template.
func TestEchoedSecretsRedacted(t *testing.T) {
	for _, status := range []int{400, 503, 200} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := camstest.New(t, camstest.WithCredentials(stsKeyID, stsSecret), camstest.WithSecurityToken(stsToken))
			srv.Handle(camstest.AnyTemplate, -1, camstest.Echo(status))
			c, _ := newTestClient(t, srv, func(o *Options) {
				o.AccessKeyID, o.AccessKeySecret, o.SecurityToken, o.MaxRetries = stsKeyID, stsSecret, stsToken, 1
			})
			series, err := c.Metrics(context.Background(), query("T"))
			list, lerr := c.ListTemplates(context.Background())
			_, rerr := c.EnableROI(context.Background())
			out := fmt.Sprintf("%v|%+v|%v|%+v|%v", err, series, lerr, list, rerr)
			for _, s := range series {
				out += fmt.Sprintf("%+v", s.Periods)
			}
			for _, e := range []error{err, lerr} {
				var ae *APIError
				if errors.As(e, &ae) {
					out += fmt.Sprintf("%#v", *ae)
				}
			}
			assertNoSecrets(t, out)
			if !strings.Contains(out, "[redacted]") {
				t.Fatalf("nothing echoed at all? %s", out)
			}
			if status == 200 && (len(series) != 1 || len(list) != 1 || err != nil || lerr != nil) {
				t.Fatalf("good answers lost: %v %v / %v %v", series, err, list, lerr)
			}
		})
	}
}

// TestSpanMismatchThroughClient: HALF_HOUR buckets in a DAILY answer are
// dropped and counted in a *Warning that comes with the good series; a
// bucket cut by the query's own window is not a mismatch.
func TestSpanMismatchThroughClient(t *testing.T) {
	srv := camstest.New(t)
	b := buckets("en", 5, 100)
	for i := 0; i < 3; i++ {
		s := day0.AddDate(0, 0, 2).Add(time.Duration(i) * 30 * time.Minute)
		b = append(b, camstest.Bucket{Language: "en", Start: s, End: s.Add(30 * time.Minute), Sent: 1})
	}
	srv.SetMetrics("T", b...)
	c, _ := newTestClient(t, srv)
	series, err := c.Metrics(context.Background(), query("T"))
	var w *Warning
	if !errors.As(err, &w) || !IsWarning(err) || w.Count != 3 || w.Code != CodeSpanMismatch || w.Template != "T" {
		t.Fatalf("err %v (%+v), want a warning for 3 buckets", err, w)
	}
	if len(series) != 1 || len(series[0].Periods) != 5 || series[0].Periods[2].Sent != 100 {
		t.Fatalf("series %+v", series)
	}
	// The learned grid is the daily buckets' own (midnights at UTC+8).
	grid := metrics.GridFor(metrics.Daily, time.UTC, series...)
	if w, want := grid.Latest(day0.AddDate(0, 0, 5).Add(time.Hour)), day0.AddDate(0, 0, 4); !w.Start.Equal(want) {
		t.Fatalf("grid %+v: latest period starts %v, want %v", grid, w.Start, want)
	}

	// Short buckets the window explains are kept, without a warning: the
	// first, cut by the window's start, and the day in progress, up to
	// the last update (09:45) before the query's End (noon). A short one
	// in between is not.
	from, to := day0.AddDate(0, 0, -3).Add(12*time.Hour), day0.Add(12*time.Hour)
	for _, tc := range []struct {
		start, end time.Time
		dropped    int
	}{
		{from, day0.AddDate(0, 0, -2), 0},
		{day0, day0.Add(9*time.Hour + 45*time.Minute), 0},
		{day0.AddDate(0, 0, -2), day0.AddDate(0, 0, -2).Add(9 * time.Hour), 1},
	} {
		srv.SetMetrics("T", camstest.Bucket{Language: "en", Start: tc.start, End: tc.end, Sent: 7})
		series, err = c.Metrics(context.Background(), Query{Template: "T", Granularity: metrics.Daily, Start: from, End: to})
		if tc.dropped == 0 && (err != nil || len(series) != 1 || series[0].Periods[0].Sent != 7) {
			t.Fatalf("bucket %v–%v: %v, %v; want it kept", tc.start, tc.end, series, err)
		}
		if tc.dropped > 0 && (!errors.As(err, &w) || w.Count != tc.dropped || len(series) != 0) {
			t.Fatalf("bucket %v–%v: %v, %v; want it dropped", tc.start, tc.end, series, err)
		}
	}
}

// TestListTemplatesHostile: an endpoint that ignores Page.Index, or lists
// templates without end, is stopped with a clear error, not paged through
// for minutes while memory grows.
func TestListTemplatesHostile(t *testing.T) {
	page := func(n int) camstest.Handler {
		return func(w http.ResponseWriter, p url.Values) {
			var b strings.Builder
			fmt.Fprintf(&b, `{"Code":"OK","Total":1000000000,"ListTemplate":[`)
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				idx := p.Get("Page") // unique codes per page, or the same page each time
				if n == 50 {
					idx = "same"
				}
				fmt.Fprintf(&b, `{"TemplateCode":%q,"TemplateName":"n","Category":"MARKETING","AuditStatus":"pass"}`, fmt.Sprint(idx, i))
			}
			b.WriteString(`]}`)
			w.Write([]byte(b.String()))
		}
	}
	for _, tc := range []struct {
		name     string
		handler  camstest.Handler
		code     string
		msg      string
		requests int64
	}{
		{"Index ignored", page(50), CodeInvalidResponse, "page 2 repeats page 1", 2},
		{"endless list", page(1000), CodeTooLarge, "more than 20000 templates listed", 21},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := camstest.New(t)
			srv.Handle(camstest.ListKey, -1, tc.handler)
			c, _ := newTestClient(t, srv)
			c.templateLimit = NewLimiter(1000)
			_, err := c.ListTemplates(context.Background())
			ae := asAPIError(t, err)
			if ae.Code != tc.code || !strings.Contains(ae.Message, tc.msg) || srv.Requests() != tc.requests {
				t.Fatalf("%v after %d requests; want %s %q after %d", ae, srv.Requests(), tc.code, tc.msg, tc.requests)
			}
		})
	}
}
