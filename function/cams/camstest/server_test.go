package camstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

var nonce int

// signed builds a signed request URL the way the SDK does.
func signed(s *Server, secret string, p url.Values) string {
	nonce++
	q := url.Values{
		"Format": {"JSON"}, "Version": {Version}, "AccessKeyId": {AccessKeyID}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"}, "SignatureNonce": {fmt.Sprint("nonce-", nonce, "-", time.Now().UnixNano())},
		"Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")}, "RegionId": {"ap-southeast-1"},
	}
	for k, v := range p {
		q[k] = v
	}
	q.Set("Signature", Sign(StringToSign("GET", q), secret))
	return s.URL() + "/?" + q.Encode()
}

type answer struct {
	status int
	body   map[string]any
}

func get(t *testing.T, u string) answer {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return answer{resp.StatusCode, m}
}

func metricParams(tmpl string, from, to time.Time) url.Values {
	return url.Values{"Action": {ActionMetric}, "TemplateCode": {tmpl},
		"Start": {strconv.FormatInt(from.UnixMilli(), 10)}, "End": {strconv.FormatInt(to.UnixMilli(), 10)}}
}

func TestServerChecks(t *testing.T) {
	s := New(t)
	var bs []Bucket
	for i := 0; i < 10; i++ {
		bs = append(bs, Bucket{Language: "en", Start: t0.AddDate(0, 0, i), Sent: int64(100 + i)})
	}
	s.SetMetrics("T1", bs...)

	ok := signed(s, AccessKeySecret, metricParams("T1", t0.AddDate(0, 0, 2), t0.AddDate(0, 0, 5)))
	with := func(mod func(url.Values)) string {
		u, _ := url.Parse(ok)
		q := u.Query()
		mod(q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	tests := []struct {
		name   string
		url    string
		status int
		code   string
		data   int
	}{
		{"signed request, filtered by Start/End", ok, 200, "OK", 3},
		{"same nonce again", ok, 400, "SignatureNonceUsed", 0},
		{"unsigned", s.URL() + "/?Action=GetChatappTemplateMetric", 400, "MissingAccessKeyId", 0},
		{"tampered parameter", with(func(q url.Values) { q.Set("TemplateCode", "T2") }), 400, "SignatureDoesNotMatch", 0},
		{"wrong secret", signed(s, "nope", metricParams("T1", t0, t0.AddDate(0, 0, 1))), 400, "SignatureDoesNotMatch", 0},
		{"unknown key", with(func(q url.Values) { q.Set("AccessKeyId", "other") }), 404, "InvalidAccessKeyId.NotFound", 0},
		{"expired timestamp", signed(s, AccessKeySecret, url.Values{"Action": {ActionMetric},
			"Timestamp": {time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")}}), 400, "InvalidTimeStamp.Expired", 0},
		{"no SignatureVersion", signed(s, AccessKeySecret, url.Values{"Action": {ActionMetric}, "SignatureVersion": {""}}), 400, "MissingSignatureVersion", 0},
		{"unknown action", signed(s, AccessKeySecret, url.Values{"Action": {"SendChatappMessage"}}), 404, "InvalidAction.NotFound", 0},
		{"wrong version", signed(s, AccessKeySecret, url.Values{"Action": {ActionMetric}, "Version": {"2017-01-01"}}), 400, "InvalidVersion", 0},
		{"missing TemplateCode", signed(s, AccessKeySecret, url.Values{"Action": {ActionMetric}, "Start": {"1"}, "End": {"2"}}), 400, "MissingParameter", 0},
		{"missing End", signed(s, AccessKeySecret, url.Values{"Action": {ActionMetric}, "TemplateCode": {"T1"}, "Start": {"1"}}), 400, "MissingParameter", 0},
		{"bad granularity", signed(s, AccessKeySecret, func() url.Values {
			p := metricParams("T1", t0, t0.AddDate(0, 0, 1))
			p.Set("Granularity", "WEEKLY")
			return p
		}()), 400, "InvalidParameter", 0},
		{"bad Page", signed(s, AccessKeySecret, url.Values{"Action": {ActionTemplates}, "Page": {"1"}}), 400, "InvalidParameter", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := get(t, tc.url)
			if a.status != tc.status || a.body["Code"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			if _, ok := a.body["RequestId"].(string); !ok {
				t.Fatalf("no RequestId: %v", a.body)
			}
			if tc.code != "OK" {
				if a.body["HostId"] != HostID || a.body["Message"] == "" {
					t.Fatalf("error shape: %v", a.body)
				}
				return
			}
			if data, _ := a.body["Data"].([]any); len(data) != tc.data {
				t.Fatalf("%d buckets, want %d", len(data), tc.data)
			}
		})
	}
}

func TestServerFaultsAndQPS(t *testing.T) {
	s := New(t, WithQPS(3))
	s.SetMetrics("T1", Bucket{Language: "en", Start: t0, Sent: 1})
	s.FailTimes("T1", 1, 400, "Ram.PermissionDeny", "denied")
	u := func() string { return signed(s, AccessKeySecret, metricParams("T1", t0, t0.AddDate(0, 0, 1))) }
	if a := get(t, u()); a.status != 400 || a.body["Code"] != "Ram.PermissionDeny" || a.body["AccessDeniedDetail"] == nil {
		t.Fatalf("fault: %v", a)
	}
	if a := get(t, u()); a.body["Code"] != "OK" {
		t.Fatalf("after fault: %v", a)
	}
	get(t, u())
	if a := get(t, u()); a.status != 400 || a.body["Code"] != "System.LimitControl" {
		t.Fatalf("4th request within a second: %v", a)
	}
	if s.Throttled() != 1 || s.Count(ActionMetric, "T1") != 4 {
		t.Fatalf("throttled %d, count %d", s.Throttled(), s.Count(ActionMetric, "T1"))
	}
}
