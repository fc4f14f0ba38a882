// Package camstest is a local CAMS API for tests and benchmarks. It checks
// requests the way Alibaba Cloud does (RPC signature, timestamp, nonce,
// Action, Version, required parameters), answers GetChatappTemplateMetric and
// ListChatappTemplate from fixtures, and injects the API's failures: error
// codes per template, random throttling, an enforced QPS and latency.
package camstest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// Default credentials the server accepts.
const (
	AccessKeyID     = "LTAI5tCamsTestKeyId01"
	AccessKeySecret = "camstest-Secret-Value-7Qx9"

	Version = "2020-06-06"
	HostID  = "cams.ap-southeast-1.aliyuncs.com"

	ActionMetric    = "GetChatappTemplateMetric"
	ActionTemplates = "ListChatappTemplate"
	ActionEnableROI = "EnableWhatsappROIMetric"

	// ListKey is the template key under which faults apply to
	// ListChatappTemplate calls; AnyTemplate applies to every call.
	ListKey     = "ListChatappTemplate"
	AnyTemplate = "*"
)

// Bucket is one element of GetChatappTemplateMetric's Data.
type Bucket struct {
	Language   string
	Start, End time.Time
	Sent       int64
	Delivered  int64
	Read       int64
	Buttons    []metrics.Button
}

// Template is one element of ListChatappTemplate's ListTemplate.
type Template struct {
	Code, Name, Language, Category, AuditStatus, Type string
}

// Request is one request the server received (after authentication).
type Request struct {
	Action   string
	Template string
	Params   url.Values // without Signature
	Time     time.Time
}

type item struct {
	start int64 // ms; -1 when unknown (always served)
	lang  string
	raw   json.RawMessage
}

type fault struct {
	status  int
	body    []byte  // full response body
	handler Handler // answers instead, when set
	times   int     // remaining; <0 forever
}

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	keys       map[string]string // AccessKeyId -> secret
	token      string            // required SecurityToken, "" for none
	data       map[string][]item
	templates  []Template
	listSet    bool
	faults     map[string][]*fault
	throttle   float64
	latency    time.Duration
	qps        int
	window     []time.Time
	nonces     map[string]time.Time
	listFilter bool
	roiEnabled []string
	log        []Request
	rnd        *mathrand.Rand
	now        func() time.Time

	requests  atomic.Int64
	rejected  atomic.Int64
	throttled atomic.Int64
}

// Option configures a Server.
type Option func(*Server)

// WithCredentials replaces the default access key pair.
func WithCredentials(id, secret string) Option {
	return func(s *Server) { s.keys = map[string]string{id: secret} }
}

// WithSecurityToken requires every request to carry this STS SecurityToken.
func WithSecurityToken(token string) Option { return func(s *Server) { s.token = token } }

// WithLatency delays every answer.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithQPS throttles (HTTP 400 System.LimitControl) requests above n a second.
func WithQPS(n int) Option { return func(s *Server) { s.qps = n } }

// WithThrottle throttles this fraction of requests at random.
func WithThrottle(fraction float64) Option { return func(s *Server) { s.throttle = fraction } }

// WithSeed makes random throttling reproducible.
func WithSeed(seed uint64) Option {
	return func(s *Server) { s.rnd = mathrand.New(mathrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// WithListFilters sets whether ListChatappTemplate applies its AuditStatus,
// Category and TemplateType parameters (default true, as the API does).
func WithListFilters(on bool) Option { return func(s *Server) { s.listFilter = on } }

// New starts a server, closed when the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{

		keys:       map[string]string{AccessKeyID: AccessKeySecret},
		data:       map[string][]item{},
		faults:     map[string][]*fault{},
		nonces:     map[string]time.Time{},
		listFilter: true,
		rnd:        mathrand.New(mathrand.NewPCG(1, 2)),
		now:        time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the endpoint URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is host:port.
func (s *Server) Endpoint() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// Close stops the server (also done at cleanup).
func (s *Server) Close() { s.srv.Close() }

// Requests is the number of requests received, rejected ones included.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Rejected is the number of requests refused for authentication or
// parameters (SignatureDoesNotMatch, MissingParameter...).
func (s *Server) Rejected() int64 { return s.rejected.Load() }

// Throttled is the number of System.LimitControl answers from WithThrottle
// and WithQPS.
func (s *Server) Throttled() int64 { return s.throttled.Load() }

// Log returns the authenticated requests, oldest first.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Count returns how many authenticated requests called action (for template,
// when not empty).
func (s *Server) Count(action, template string) int {
	n := 0
	for _, r := range s.Log() {
		if r.Action == action && (template == "" || r.Template == template) {
			n++
		}
	}
	return n
}

// SetLatency changes the delay of every answer.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// SetThrottle changes the random throttle fraction.
func (s *Server) SetThrottle(f float64) { s.mu.Lock(); s.throttle = f; s.mu.Unlock() }

// SetQPS changes the enforced QPS (0: none).
func (s *Server) SetQPS(n int) { s.mu.Lock(); s.qps = n; s.mu.Unlock() }

// SetMetrics replaces the buckets of a template.
func (s *Server) SetMetrics(template string, buckets ...Bucket) {
	items := make([]item, 0, len(buckets))
	for _, b := range buckets {
		end := b.End
		if end.IsZero() {
			end = b.Start.Add(24 * time.Hour)
		}
		type click struct {
			Type          string
			ButtonContent string
			Count         int64
		}
		cl := make([]click, 0, len(b.Buttons))
		for _, btn := range b.Buttons {
			cl = append(cl, click{btn.Type, btn.Text, btn.Count})
		}
		raw, _ := json.Marshal(map[string]any{
			"TemplateCode": template, "Language": b.Language,
			"Start": b.Start.UnixMilli(), "End": end.UnixMilli(),
			"SentCount": b.Sent, "DeliveredCount": b.Delivered, "ReadCount": b.Read,
			"Cliented": cl,
		})
		items = append(items, item{start: b.Start.UnixMilli(), lang: b.Language, raw: raw})
	}
	s.mu.Lock()
	s.data[template] = items
	s.mu.Unlock()
}

// SetSeries replaces the buckets of each series' template and language.
func (s *Server) SetSeries(series ...*metrics.Series) {
	byTemplate := map[string][]Bucket{}
	var order []string
	for _, se := range series {
		if _, ok := byTemplate[se.Template]; !ok {
			order = append(order, se.Template)
		}
		for _, p := range se.Periods {
			byTemplate[se.Template] = append(byTemplate[se.Template], Bucket{Language: se.Language,
				Start: p.Start, End: p.End, Sent: p.Sent, Delivered: p.Delivered, Read: p.Read, Buttons: p.Buttons})
		}
	}
	for _, t := range order {
		s.SetMetrics(t, byTemplate[t]...)
	}
}

// SetRecorded serves a recorded GetChatappTemplateMetric response body for a
// template: its Data items verbatim (filtered by Start), or, when its Code is
// not "OK", that error on every call.
func (s *Server) SetRecorded(template string, body []byte) error {
	var env struct {
		Code    string
		Message string
		Data    []json.RawMessage
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("camstest: %s: %w", template, err)
	}
	if env.Code != "OK" {
		status := 400
		if env.Code == "InternalError" || env.Code == "ServiceUnavailable" {
			status = 503
		}
		s.Respond(template, -1, status, string(body))
		return nil
	}
	items := make([]item, 0, len(env.Data))
	for _, raw := range env.Data {
		var head struct {
			Start    json.RawMessage
			Language any
		}
		it := item{start: -1, raw: raw}
		if json.Unmarshal(raw, &head) == nil {
			if n, err := strconv.ParseInt(strings.Trim(string(head.Start), `"`), 10, 64); err == nil {
				it.start = n
			}
			if l, ok := head.Language.(string); ok {
				it.lang = l
			}
		}
		items = append(items, it)
	}
	s.mu.Lock()
	s.data[template] = items
	s.mu.Unlock()
	return nil
}

// LoadFile serves a recorded response file for a template.
func (s *Server) LoadFile(template, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return s.SetRecorded(template, b)
}

// LoadDir serves a replay directory (the layout cams.Replay reads):
// <code>.json per template and an optional templates.json.
func (s *Server) LoadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		code, ok := strings.CutSuffix(e.Name(), ".json")
		if e.IsDir() || !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if e.Name() == "templates.json" {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var env struct{ ListTemplate []map[string]any }
			if err := json.Unmarshal(b, &env); err != nil {
				return fmt.Errorf("camstest: %s: %w", path, err)
			}
			var ts []Template
			for _, m := range env.ListTemplate {
				str := func(k string) string { v, _ := m[k].(string); return v }
				ts = append(ts, Template{Code: str("TemplateCode"), Name: str("TemplateName"), Language: str("Language"),
					Category: str("Category"), AuditStatus: str("AuditStatus"), Type: str("TemplateType")})
			}
			s.SetTemplates(ts...)
			continue
		}
		if err := s.LoadFile(code, path); err != nil {
			return err
		}
	}
	return nil
}

// SetTemplates sets what ListChatappTemplate lists. Without it, it lists
// every template with metrics as an approved WhatsApp MARKETING template.
func (s *Server) SetTemplates(ts ...Template) {
	s.mu.Lock()
	s.templates = append([]Template(nil), ts...)
	s.listSet = true
	s.mu.Unlock()
}

// Fail makes every call for template (or ListKey, or AnyTemplate) answer
// with an API error, e.g. Fail("T1", 400, "Ram.PermissionDeny", "...").
func (s *Server) Fail(template string, httpStatus int, code, message string) {
	s.FailTimes(template, -1, httpStatus, code, message)
}

// FailTimes is Fail for the next n calls only (n < 0: forever).
func (s *Server) FailTimes(template string, n, httpStatus int, code, message string) {
	s.Respond(template, n, httpStatus, string(errorBody(newRequestID(), code, message)))
}

// Respond makes the next n calls (n < 0: all) for template answer with this
// status and raw body: a 200 with an error Code, a body the SDK chokes on...
func (s *Server) Respond(template string, n, httpStatus int, body string) {
	s.mu.Lock()
	s.faults[template] = append(s.faults[template], &fault{status: httpStatus, body: []byte(body), times: n})
	s.mu.Unlock()
}

// Clear removes the faults of template.
func (s *Server) Clear(template string) {
	s.mu.Lock()
	delete(s.faults, template)
	s.mu.Unlock()
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func errorBody(requestID, code, message string) []byte {
	m := map[string]any{"RequestId": requestID, "HostId": HostID, "Code": code, "Message": message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(code) + "&product=cams"}
	if code == "Ram.PermissionDeny" {
		m["AccessDeniedDetail"] = map[string]any{"AuthAction": "cams:GetChatappTemplateMetric",
			"AuthPrincipalType": "SubUser", "PolicyType": "AccountLevelIdentityBasedPolicy", "NoPermissionType": "ImplicitDeny"}
	}
	b, _ := json.Marshal(m)
	return b
}

func (s *Server) reply(w http.ResponseWriter, requestID string, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) fail(w http.ResponseWriter, status int, code, message string) {
	s.rejected.Add(1)
	id := newRequestID()
	s.reply(w, id, status, errorBody(id, code, message))
}

// percentEncode is the RFC 3986 encoding Alibaba Cloud's RPC signature uses.
func percentEncode(v string) string {
	e := url.QueryEscape(v)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	e = strings.ReplaceAll(e, "%7E", "~")
	return e
}

// StringToSign computes the RPC string to sign of a request's parameters.
func StringToSign(method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		for _, v := range params[k] {
			parts = append(parts, percentEncode(k)+"="+percentEncode(v))
		}
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(strings.Join(parts, "&"))
}

// Sign is HMAC-SHA1 of the string to sign with key secret+"&", in base64.
func Sign(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.fail(w, 400, "UnsupportedHTTPMethod", "This http method is not supported.")
		return
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.fail(w, 400, "InvalidParameter", "The query string is malformed.")
		return
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			for k, vs := range r.PostForm {
				params[k] = append(params[k], vs...)
			}
		}
	}
	if !s.authenticate(w, r.Method, params) {
		return
	}
	action := params.Get("Action")
	if params.Get("Version") != Version {
		s.fail(w, 400, "InvalidVersion", "Specified parameter Version is not valid.")
		return
	}
	if action != ActionMetric && action != ActionTemplates && action != ActionEnableROI {
		s.fail(w, 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
		return
	}
	template := params.Get("TemplateCode")
	switch action {
	case ActionTemplates:
		template = ListKey
	case ActionEnableROI:
		template = ActionEnableROI
	}
	logged := url.Values{}
	for k, v := range params {
		if k != "Signature" {
			logged[k] = v
		}
	}
	s.mu.Lock()
	s.log = append(s.log, Request{Action: action, Template: params.Get("TemplateCode"), Params: logged, Time: s.now()})
	latency := s.latency
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if s.throttledNow() {
		s.throttled.Add(1)
		id := newRequestID()
		s.reply(w, id, 400, errorBody(id, "System.LimitControl", "The system is under flow control."))
		return
	}
	if f := s.takeFault(template); f != nil {
		if f.handler != nil {
			f.handler(w, params)
			return
		}
		s.reply(w, newRequestID(), f.status, f.body)
		return
	}
	switch action {
	case ActionMetric:
		s.serveMetric(w, params)
	case ActionTemplates:
		s.serveTemplates(w, params)
	case ActionEnableROI:
		s.mu.Lock()
		s.roiEnabled = append(s.roiEnabled, params.Get("CustSpaceId"))
		s.mu.Unlock()
		id := newRequestID()
		body, _ := json.Marshal(map[string]string{"RequestId": id, "Code": "OK", "Message": "None", "AccessDeniedDetail": "None"})
		s.reply(w, id, 200, body)
	}
}

// ROIEnabled lists the CustSpaceId of every EnableWhatsappROIMetric call
// ("" for the account's own space), in order.
func (s *Server) ROIEnabled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.roiEnabled...)
}

func (s *Server) authenticate(w http.ResponseWriter, method string, params url.Values) bool {
	for _, p := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Action", "Version"} {
		if params.Get(p) == "" {
			code := "Missing" + p
			if p == "Action" || p == "Version" {
				code = "MissingParameter"
			}
			s.fail(w, 400, code, fmt.Sprintf("%s is mandatory for this action.", p))
			return false
		}
	}
	s.mu.Lock()
	secret, ok := s.keys[params.Get("AccessKeyId")]
	token := s.token
	s.mu.Unlock()
	if !ok {
		s.fail(w, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return false
	}
	if params.Get("SignatureMethod") != "HMAC-SHA1" {
		s.fail(w, 400, "InvalidSignatureMethod", "Specified signature method is not supported.")
		return false
	}
	if v := params.Get("SignatureVersion"); v != "1.0" {
		s.fail(w, 400, "InvalidSignatureVersion", "Specified signature version is not supported.")
		return false
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", params.Get("Timestamp"))
	if err != nil {
		s.fail(w, 400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
		return false
	}
	if d := s.now().Sub(ts); d > 15*time.Minute || d < -15*time.Minute {
		s.fail(w, 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return false
	}
	sts := StringToSign(method, params)
	if !hmac.Equal([]byte(Sign(sts, secret)), []byte(params.Get("Signature"))) {
		s.fail(w, 400, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:"+sts)
		return false
	}
	s.mu.Lock()
	now := s.now()
	nonce := params.Get("SignatureNonce")
	_, used := s.nonces[nonce]
	if !used {
		s.nonces[nonce] = now
		if len(s.nonces) > 100000 {
			for k, t := range s.nonces {
				if now.Sub(t) > 15*time.Minute {
					delete(s.nonces, k)
				}
			}
		}
	}
	s.mu.Unlock()
	if used {
		s.fail(w, 400, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return false
	}
	if got := params.Get("SecurityToken"); got != token {
		switch {
		case token == "":
			s.fail(w, 400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
		case got == "":
			s.fail(w, 400, "MissingSecurityToken", "SecurityToken is mandatory for this access key.")
		default:
			s.fail(w, 400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken is invalid.")
		}
		return false
	}
	return true
}

func (s *Server) throttledNow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle > 0 && s.rnd.Float64() < s.throttle {
		return true
	}
	if s.qps <= 0 {
		return false
	}
	now := s.now()
	cut := 0
	for cut < len(s.window) && now.Sub(s.window[cut]) >= time.Second {
		cut++
	}
	s.window = s.window[cut:]
	if len(s.window) >= s.qps {
		return true
	}
	s.window = append(s.window, now)
	return false
}

func (s *Server) takeFault(template string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{template, AnyTemplate} {
		fs := s.faults[key]
		for len(fs) > 0 {
			f := fs[0]
			if f.times == 0 {
				fs = fs[1:]
				continue
			}
			if f.times > 0 {
				f.times--
			}
			s.faults[key] = fs
			return f
		}
		delete(s.faults, key)
	}
	return nil
}

func (s *Server) serveMetric(w http.ResponseWriter, p url.Values) {
	template := p.Get("TemplateCode")
	if template == "" {
		s.fail(w, 400, "MissingParameter", `The input parameter "TemplateCode" that is mandatory for processing this request is not supplied.`)
		return
	}
	start, err1 := strconv.ParseInt(p.Get("Start"), 10, 64)
	end, err2 := strconv.ParseInt(p.Get("End"), 10, 64)
	if p.Get("Start") == "" || p.Get("End") == "" {
		s.fail(w, 400, "MissingParameter", `The input parameters "Start" and "End" are mandatory.`)
		return
	}
	if err1 != nil || err2 != nil || end <= start {
		s.fail(w, 400, "InvalidParameter", "Start and End must be millisecond timestamps, Start before End.")
		return
	}
	if g := p.Get("Granularity"); g != "" && g != "DAILY" && g != "HALF_HOUR" {
		s.fail(w, 400, "InvalidParameter", "Granularity must be DAILY or HALF_HOUR.")
		return
	}
	if t := p.Get("TemplateType"); t != "" && t != "WHATSAPP" {
		s.fail(w, 400, "InvalidParameter", "TemplateType must be WHATSAPP.")
		return
	}
	lang := p.Get("Language")
	s.mu.Lock()
	items := s.data[template]
	var data []json.RawMessage
	for _, it := range items {
		if it.start >= 0 && (it.start < start || it.start >= end) {
			continue
		}
		if lang != "" && it.lang != lang {
			continue
		}
		data = append(data, it.raw)
	}
	s.mu.Unlock()
	if data == nil {
		data = []json.RawMessage{}
	}
	id := newRequestID()
	body, _ := json.Marshal(map[string]any{"RequestId": id, "Code": "OK", "Message": "None",
		"AccessDeniedDetail": "None", "Data": data})
	s.reply(w, id, 200, body)
}

func (s *Server) serveTemplates(w http.ResponseWriter, p url.Values) {
	var page struct{ Index, Size int }
	if err := json.Unmarshal([]byte(p.Get("Page")), &page); err != nil || page.Index < 1 || page.Size < 1 || page.Size > 100 {
		s.fail(w, 400, "InvalidParameter", `Page must be JSON like {"Index":1,"Size":50}, Size 1-100.`)
		return
	}
	s.mu.Lock()
	ts := append([]Template(nil), s.templates...)
	if !s.listSet {
		ts = ts[:0]
		codes := make([]string, 0, len(s.data))
		for code := range s.data {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			lang := ""
			if items := s.data[code]; len(items) > 0 {
				lang = items[0].lang
			}
			ts = append(ts, Template{Code: code, Name: code, Language: lang, Category: "MARKETING",
				AuditStatus: "pass", Type: "WHATSAPP"})
		}
	}
	filter := s.listFilter
	s.mu.Unlock()
	var sel []Template
	for _, t := range ts {
		if filter {
			if v := p.Get("AuditStatus"); v != "" && !strings.EqualFold(v, t.AuditStatus) {
				continue
			}
			if v := p.Get("Category"); v != "" && !strings.EqualFold(v, t.Category) {
				continue
			}
			if v := p.Get("TemplateType"); v != "" && !strings.EqualFold(v, t.Type) {
				continue
			}
		}
		sel = append(sel, t)
	}
	from := (page.Index - 1) * page.Size
	list := []map[string]any{}
	for i := from; i >= 0 && i < len(sel) && i < from+page.Size; i++ {
		t := sel[i]
		list = append(list, map[string]any{"TemplateCode": t.Code, "TemplateName": t.Name, "Language": t.Language,
			"Category": t.Category, "AuditStatus": t.AuditStatus, "TemplateType": t.Type})
	}
	id := newRequestID()
	body, _ := json.Marshal(map[string]any{"RequestId": id, "Code": "OK", "Message": "SUCCESS",
		"Total": len(sel), "ListTemplate": list})
	s.reply(w, id, 200, body)
}
