// Package cams calls the Chatapp Message Service (CAMS) API: the metrics of
// WhatsApp marketing templates (GetChatappTemplateMetric) and the list of
// templates (ListChatappTemplate), through the v1 Alibaba Cloud SDK's common
// request, with client-side rate limiting, retries and strict error mapping.
// Replay serves the same calls from recorded responses.
package cams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/pause"
)

// Defaults of Options.
const (
	DefaultEndpoint       = "https://cams.ap-southeast-1.aliyuncs.com"
	DefaultRegion         = "ap-southeast-1"
	DefaultQPS            = 40
	MaxQPS                = 50 // GetChatappTemplateMetric's documented limit
	TemplatesQPS          = 5  // ListChatappTemplate's documented limit
	DefaultConnectTimeout = 5 * time.Second
	DefaultReadTimeout    = 10 * time.Second
	DefaultMaxRetries     = 4
	// ThrottleRetries is how many times a throttled call is retried
	// (unless MaxRetries is negative, or higher). Throttling is the API
	// telling us to slow down, not that the call fails: the limiter slows
	// down (or, when throttles are scattered, keeps the budget) and the
	// call goes again, within the run's deadline.
	ThrottleRetries = 20

	Product     = "cams"
	APIVersion  = "2020-06-06"
	WhatsApp    = "WHATSAPP"
	Marketing   = "MARKETING"
	pageSize    = 50
	maxPages    = 1000
	backoffBase = 200 * time.Millisecond
)

// Options configure a Client. Zero values take the defaults above.
type Options struct {
	Endpoint string // URL, e.g. https://cams.ap-southeast-1.aliyuncs.com or http://127.0.0.1:9000
	Region   string

	AccessKeyID, AccessKeySecret, SecurityToken string

	CustSpaceID, IsvCode string

	QPS int // GetChatappTemplateMetric budget, 1-50 (0: 40; above 50: 50)

	ConnectTimeout, ReadTimeout time.Duration

	// MaxRetries is the number of retries of a retryable failure
	// (0: DefaultMaxRetries; negative: none). Throttled calls are retried
	// up to max(MaxRetries, ThrottleRetries) times.
	MaxRetries int

	// Limiter, when set, paces GetChatappTemplateMetric instead of a new
	// limiter at QPS: clients that share an account's budget (a client per
	// invocation, rebuilt when credentials rotate) can share one. Its rate
	// is not clamped to MaxQPS (test servers).
	Limiter *Limiter

	// MaxBody is the largest response body read (0: DefaultMaxBody).
	MaxBody int64
}

// Query asks for one template's metrics.
type Query struct {
	Template    string
	Language    string // empty: all languages
	Granularity metrics.Granularity
	Start, End  time.Time
}

// Template is one entry of ListChatappTemplate.
type Template struct {
	Code, Name, Language, Category, AuditStatus string
	Type                                        string // TemplateType; empty means WHATSAPP
}

// Source is where metrics come from: the API (Client) or recordings (Replay).
type Source interface {
	Metrics(ctx context.Context, q Query) ([]*metrics.Series, error)
	ListTemplates(ctx context.Context) ([]Template, error)
	Stats() (calls, retries int64)
}

// BackoffCap is the longest wait before a retry: a retryable failure this
// close to a deadline was cut short by it.
const BackoffCap = 5 * time.Second

// RateBudget is the sustained call rate src allows (calls per second), 0
// when it sets none (a replay).
func RateBudget(src Source) float64 {
	if c, ok := src.(*Client); ok && c.metricLimit != nil {
		return c.metricLimit.Budget()
	}
	return 0
}

var (
	_ Source = (*Client)(nil)
	_ Source = (*Replay)(nil)
)

// Client calls CAMS. It is safe for concurrent use: calls share the rate
// limiters and the call counters. Build a new one when credentials change.
type Client struct {
	opts       Options
	domain     string // host[:port]
	scheme     string // HTTP or HTTPS
	maxRetries int
	redact     *redactor
	transport  http.RoundTripper
	maxBody    int64
	bodySlots  chan struct{}

	metricLimit   *Limiter
	templateLimit *Limiter

	calls, retries atomic.Int64
	panics         atomic.Int64 // SDK panics recovered

	mu   sync.Mutex
	idle []*conn

	// hooks for tests
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64
}

// New checks the options and builds a client. It makes no call.
func New(o Options) (*Client, error) {
	if o.AccessKeyID == "" || o.AccessKeySecret == "" {
		var missing []string
		if o.AccessKeyID == "" {
			missing = append(missing, "ALIBABA_CLOUD_ACCESS_KEY_ID")
		}
		if o.AccessKeySecret == "" {
			missing = append(missing, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
		}
		return nil, fmt.Errorf("cams: missing credentials: set %s (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials)",
			strings.Join(missing, " and "))
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("cams: endpoint %q: want an http(s) URL such as %s", redactURL(o.Endpoint), DefaultEndpoint)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("cams: endpoint %q: want scheme://host[:port] only", redactURL(o.Endpoint))
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.QPS <= 0 {
		o.QPS = DefaultQPS
	}
	if o.QPS > MaxQPS {
		o.QPS = MaxQPS
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	maxRetries := o.MaxRetries
	if maxRetries == 0 {
		maxRetries = DefaultMaxRetries
	} else if maxRetries < 0 {
		maxRetries = 0
	}
	c := &Client{
		opts: o, domain: u.Host, scheme: strings.ToUpper(u.Scheme), maxRetries: maxRetries,
		redact:        newRedactor(o.AccessKeySecret, o.SecurityToken, o.AccessKeyID),
		metricLimit:   o.Limiter,
		templateLimit: NewLimiter(TemplatesQPS),
		sleep:         pause.For,
		jitter:        rand.Float64,
		maxBody:       o.MaxBody,
		bodySlots:     make(chan struct{}, bodySlots),
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBody
	}
	if c.metricLimit == nil {
		c.metricLimit = NewLimiter(o.QPS)
	}
	c.transport = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		MaxIdleConnsPerHost:   MaxQPS,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: o.ReadTimeout,
		ForceAttemptHTTP2:     true,
	}
	// Build one SDK client now so that a bad region fails here.
	cn, err := c.newConn()
	if err != nil {
		return nil, fmt.Errorf("cams: %s", c.redact.clean(err.Error()))
	}
	c.idle = append(c.idle, cn)
	return c, nil
}

func redactURL(s string) string {
	if i := strings.IndexAny(s, "?#@"); i >= 0 {
		return s[:i] + "…"
	}
	return s
}

// conn is one SDK client. The SDK mutates its client on every call (timeouts,
// TLS settings), so a conn serves one call at a time; the Client keeps a pool
// of them, all sharing one HTTP transport.
type conn struct {
	sdk *sdk.Client
	rt  *callTransport
}

// callTransport gives the SDK's requests the caller's context and reads the
// response itself, as a stream, into the call's sink. Left to the SDK, a
// body would be held whole, twice over (bytes and a string), an HTTP 200
// with an error Code would pass as a success, and some error bodies would
// panic it. The SDK gets the status, the headers and an empty body.
type callTransport struct {
	base        http.RoundTripper
	slots       chan struct{} // the client's body-read slots
	maxBody     int64
	readTimeout time.Duration

	// per call
	ctx        context.Context
	sink       itemSink
	status     int
	redirected bool
	answered   bool      // a response arrived and was read
	env        *envelope // the response's envelope, when it was read whole
	bodyErr    error     // why it was not
}

func (t *callTransport) reset(ctx context.Context, sink itemSink) {
	t.ctx, t.sink = ctx, sink
	t.status, t.redirected, t.answered, t.env, t.bodyErr = 0, false, false, nil, nil
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The read timeout, the caller's context and the SDK client's own
	// timer all end the call, the body's reading included. Ours comes
	// first (the SDK's is set a second later): its error says timeout.
	ctx, cancel := context.WithTimeout(req.Context(), t.readTimeout)
	defer cancel()
	if t.ctx != nil {
		stop := context.AfterFunc(t.ctx, cancel)
		defer stop()
	}
	req = req.WithContext(ctx)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.status = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
		// Never followed: the SDK's client would resend the signed request
		// elsewhere, with the signed URL (key id, STS token, signature) in
		// its Referer. Without a Location the client hands the 3xx back.
		t.redirected = true
		resp.Header.Del("Location")
	} else {
		t.answered = true
		t.env, t.bodyErr = t.read(req.Context(), resp)
	}
	resp.Body.Close()
	resp.Body, resp.ContentLength = http.NoBody, 0
	return resp, nil
}

// read streams the body into the sink, within the size limit, in one of the
// client's body-read slots.
func (t *callTransport) read(ctx context.Context, resp *http.Response) (*envelope, error) {
	if resp.ContentLength > t.maxBody {
		return nil, &errTooLarge{limit: t.maxBody, length: resp.ContentLength}
	}
	select {
	case t.slots <- struct{}{}:
		defer func() { <-t.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return readEnvelope(&capReader{r: resp.Body, limit: t.maxBody}, t.sink)
}

func (c *Client) newConn() (*conn, error) {
	rt := &callTransport{base: c.transport, slots: c.bodySlots, maxBody: c.maxBody, readTimeout: c.opts.ReadTimeout}
	cfg := sdk.NewConfig()
	cfg.AutoRetry = false // the Client retries, with backoff and rate limiting
	cfg.Scheme = c.scheme
	cfg.Transport = rt
	var client *sdk.Client
	var err error
	if c.opts.SecurityToken != "" {
		client, err = sdk.NewClientWithOptions(c.opts.Region, cfg, &credentials.StsTokenCredential{
			AccessKeyId: c.opts.AccessKeyID, AccessKeySecret: c.opts.AccessKeySecret, AccessKeyStsToken: c.opts.SecurityToken})
	} else {
		client, err = sdk.NewClientWithOptions(c.opts.Region, cfg, &credentials.AccessKeyCredential{
			AccessKeyId: c.opts.AccessKeyID, AccessKeySecret: c.opts.AccessKeySecret})
	}
	if err != nil {
		return nil, err
	}
	client.SetReadTimeout(c.opts.ReadTimeout + time.Second) // a backstop: callTransport times out first
	client.SetConnectTimeout(c.opts.ConnectTimeout)
	client.SetCloseTrace(true)
	return &conn{sdk: client, rt: rt}, nil
}

func (c *Client) getConn() (*conn, error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		cn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cn, nil
	}
	c.mu.Unlock()
	return c.newConn()
}

func (c *Client) putConn(cn *conn) {
	cn.rt.reset(nil, nil)
	c.mu.Lock()
	c.idle = append(c.idle, cn)
	c.mu.Unlock()
}

// Stats returns the number of API calls made (each attempt counts) and how
// many of them were retries.
func (c *Client) Stats() (calls, retries int64) { return c.calls.Load(), c.retries.Load() }

// Close releases the client's idle connections (and their goroutines and
// buffers). A client per invocation should be closed when the invocation is
// done: otherwise the idle connections of a warm FC instance's earlier
// invocations stay open until the idle timeout. The client stays usable.
func (c *Client) Close() {
	if t, ok := c.transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	c.mu.Lock()
	c.idle = nil
	c.mu.Unlock()
}

// Limiter returns the rate limiter of GetChatappTemplateMetric.
func (c *Client) Limiter() *Limiter { return c.metricLimit }

// once makes one call and returns the envelope of a successful one, its
// data read into sink. Every failure, including a panic inside the SDK, is an
// *APIError whose echoed fields have been through the redactor.
func (c *Client) once(ctx context.Context, api string, params map[string]string, sink itemSink) (*envelope, *APIError) {
	env, ae := c.attempt(ctx, api, params, sink)
	if ae != nil {
		c.redact.apiError(ae)
	}
	return env, ae
}

func (c *Client) attempt(ctx context.Context, api string, params map[string]string, sink itemSink) (env *envelope, ae *APIError) {
	cn, err := c.getConn()
	if err != nil {
		return nil, &APIError{Code: CodeSDK, Message: err.Error()}
	}
	panicked := false
	defer func() {
		if !panicked {
			c.putConn(cn)
		} // a conn whose SDK call panicked is dropped
	}()
	rt := cn.rt
	rt.reset(ctx, sink)

	req := requests.NewCommonRequest()
	req.Method = requests.POST
	req.Scheme = c.scheme
	req.Domain = c.domain
	req.Product = Product
	req.Version = APIVersion
	req.ApiName = api
	req.RegionId = c.opts.Region
	for k, v := range params {
		req.QueryParams[k] = v
	}

	var sdkErr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				panicked = true
				c.panics.Add(1)
				sdkErr = &APIError{Code: CodeSDKPanic, Message: fmt.Sprint(r)}
			}
		}()
		_, sdkErr = cn.sdk.ProcessCommonRequest(req)
	}()

	switch {
	case rt.redirected:
		return nil, &APIError{Code: CodeRedirect, HTTPStatus: rt.status, Message: fmt.Sprintf(
			"the endpoint answered HTTP %d with a redirect, which is not followed: check CAMS_ENDPOINT", rt.status)}
	case rt.answered:
		// The SDK saw an empty body: its own verdict on it means nothing.
		return c.answer(ctx, rt)
	case sdkErr == nil:
		return nil, &APIError{Code: CodeSDK, Message: "the SDK returned without calling the API"}
	case ctx.Err() != nil:
		return nil, ctxError(ctx, nil)
	}
	return nil, c.redact.fromError(sdkErr)
}

// answer judges a response that arrived.
func (c *Client) answer(ctx context.Context, rt *callTransport) (*envelope, *APIError) {
	status := rt.status
	ok := status >= 200 && status <= 299
	if err := rt.bodyErr; err != nil {
		var ae *APIError
		var tl *errTooLarge
		switch {
		case errors.As(err, &tl):
			return nil, &APIError{Code: CodeTooLarge, HTTPStatus: status, Message: tl.Error()}
		case errors.As(err, &ae) && errors.Is(ae, io.ErrUnexpectedEOF):
			// A body that stops inside its JSON: the connection closed
			// early (a close-delimited body has no length to miss).
			return nil, &APIError{Code: CodeConnection, HTTPStatus: status,
				Message: "connection dropped mid-body: " + ae.Message, err: redactedError{CodeConnection}}
		case errors.As(err, &ae):
			if !ok && ae.Code == CodeInvalidResponse {
				return nil, &APIError{Code: fmt.Sprintf("HTTP.%d", status), HTTPStatus: status}
			}
			ae.HTTPStatus = status
			return nil, ae
		case ctx.Err() != nil:
			return nil, ctxError(ctx, nil)
		}
		return nil, c.bodyReadError(err, status)
	}
	if ae := rt.env.check(status); ae != nil {
		if !ok && string(rt.env.Code) == "" {
			ae.Code, ae.Message = fmt.Sprintf("HTTP.%d", status), ""
		}
		return nil, ae
	}
	if !ok {
		return nil, &APIError{Code: fmt.Sprintf("HTTP.%d", status), HTTPStatus: status, RequestID: string(rt.env.RequestID)}
	}
	return rt.env, nil
}

// bodyReadError maps a failure to read a response body: a dropped
// connection, or the read timeout (the SDK client's deadline on the
// request), both retryable.
func (c *Client) bodyReadError(err error, status int) *APIError {
	ae := c.redact.fromError(err)
	switch {
	case ae.Code == CodeDeadline || ae.Code == CodeCanceled || errors.Is(err, os.ErrDeadlineExceeded):
		ae = &APIError{Code: CodeTimeout, Message: "read timeout in the response body", err: redactedError{CodeTimeout}}
	case ae.Code == CodeSDK:
		ae = &APIError{Code: CodeConnection, Message: "reading the response body: " + ae.Message, err: redactedError{CodeConnection}}
	default:
		ae.Message = "reading the response body: " + ae.Message
	}
	ae.HTTPStatus = status
	return ae
}

func ctxError(ctx context.Context, last *APIError) *APIError {
	code := CodeCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = CodeDeadline
	}
	ae := &APIError{Code: code, Message: ctx.Err().Error(), err: ctx.Err()}
	if last != nil {
		ae.Message += "; last error: " + last.Code
		if last.Message != "" {
			ae.Message += ": " + last.Message
		}
		ae.RequestID, ae.HTTPStatus = last.RequestID, last.HTTPStatus
	}
	return ae
}

// call makes a call with rate limiting and retries. It returns the last
// *APIError when it gives up: on a permanent error, after MaxRetries retries,
// when ctx is done, or when the next backoff would outlast ctx's deadline.
func (c *Client) call(ctx context.Context, lim *Limiter, api, template string, params map[string]string,
	newSink func() itemSink) (*envelope, error) {
	var last *APIError
	for attempt := 0; ; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			if last != nil && ctx.Err() == nil {
				return nil, last // the next turn comes after the deadline
			}
			var ae *APIError
			if ctx.Err() == nil { // Wait saw the deadline coming (ctxError needs ctx.Err)
				ae = &APIError{Code: CodeDeadline, Message: "rate limit turn comes after the context deadline",
					err: context.DeadlineExceeded}
			} else {
				ae = ctxError(ctx, last)
			}
			ae.API, ae.Template = api, template
			return nil, ae
		}
		c.calls.Add(1)
		if attempt > 0 {
			c.retries.Add(1)
		}
		var sink itemSink
		if newSink != nil {
			sink = newSink() // a fresh one for each attempt
		}
		env, ae := c.once(ctx, api, params, sink)
		if ae == nil {
			return env, nil
		}
		ae.API, ae.Template = api, template
		if ae.Throttled() {
			lim.Throttled()
		}
		if ae.Code == CodeCanceled || ae.Code == CodeDeadline {
			if last != nil {
				ae = ctxError(ctx, last)
				ae.API, ae.Template = api, template
			}
			return nil, ae
		}
		last = ae
		limit := c.maxRetries
		if ae.Throttled() && limit > 0 {
			limit = max(limit, ThrottleRetries)
		}
		if !ae.Retryable() || attempt >= limit {
			return nil, ae
		}
		d := c.backoff(attempt)
		if ae.Throttled() {
			// The shared limiter is the back-off from throttling: it
			// slows every caller when throttling is the rule, and keeps
			// the budget when throttles are scattered. Waiting longer
			// and longer here on top only holds this template back (the
			// last templates of a run, throttled a few times, would
			// outlast all the others).
			d = c.backoff(0)
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
			return nil, ae
		}
		if err := c.sleep(ctx, d); err != nil {
			return nil, ae
		}
	}
}

// backoff is the wait before retry attempt+1: exponential from 200ms, capped
// at 5s, with jitter over the upper half (throttled calls: always the first
// step, see call).
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 10)
	if d > BackoffCap {
		d = BackoffCap
	}
	return d/2 + time.Duration(c.jitter()*float64(d/2))
}

func (c *Client) scope(p map[string]string) {
	if c.opts.CustSpaceID != "" {
		p["CustSpaceId"] = c.opts.CustSpaceID
	}
	if c.opts.IsvCode != "" {
		p["IsvCode"] = c.opts.IsvCode
	}
}

// Metrics fetches one template's metrics over [q.Start, q.End) and returns one
// normalized series per language. Failures are *APIError. When some buckets
// of an otherwise good answer are rejected (see Decode), it returns the
// series of the other buckets together with an *APIError whose Code is
// Response.InvalidData: callers that treat every error as "not checked" stay
// safe.
func (c *Client) Metrics(ctx context.Context, q Query) ([]*metrics.Series, error) {
	if q.Template == "" {
		return nil, &APIError{API: APIMetric, Code: "MissingTemplateCode", Message: "no template code"}
	}
	g := q.Granularity
	if g == "" {
		g = metrics.Daily
	}
	if !g.Valid() {
		return nil, &APIError{API: APIMetric, Template: q.Template, Code: "InvalidGranularity",
			Message: fmt.Sprintf("granularity %q: want DAILY or HALF_HOUR", g)}
	}
	if !q.End.After(q.Start) {
		return nil, &APIError{API: APIMetric, Template: q.Template, Code: "InvalidTimeRange",
			Message: "End must be after Start"}
	}
	p := map[string]string{
		"TemplateCode": q.Template,
		"Start":        strconv.FormatInt(q.Start.UnixMilli(), 10),
		"End":          strconv.FormatInt(q.End.UnixMilli(), 10),
		"Granularity":  string(g),
		"TemplateType": WhatsApp,
	}
	if q.Language != "" {
		p["Language"] = q.Language
	}
	c.scope(p)
	q.Granularity = g
	var sink *metricSink
	env, err := c.call(ctx, c.metricLimit, APIMetric, q.Template, p, func() itemSink {
		sink = newMetricSink(g, q.Template, q, c.redact.scrub)
		return sink
	})
	if err != nil {
		return nil, err
	}
	series, derr := sink.result(env)
	w := sink.warning()
	if derr != nil {
		msg := strings.ReplaceAll(derr.Error(), "\n", "; ")
		if w != nil {
			msg += "; " + w.Message
		}
		return series, &APIError{API: APIMetric, Template: q.Template, Code: CodeInvalidData,
			Message: c.redact.clean(truncate(msg, 1000)), RequestID: c.redact.clean(string(env.RequestID)), HTTPStatus: 200,
			err: redactedError{CodeInvalidData}}
	}
	if w != nil {
		return series, w
	}
	return series, nil
}

// EnableROI turns on the WhatsApp ROI metrics of the client's scope
// (CustSpaceId / IsvCode, or the account's own). GetChatappTemplateMetric
// has data only after it: from a day later, and only for sends after the
// call. It keeps to the same 5 QPS as ListTemplates and returns the
// request id.
func (c *Client) EnableROI(ctx context.Context) (string, error) {
	p := map[string]string{}
	c.scope(p)
	env, err := c.call(ctx, c.templateLimit, APIEnableROI, "", p, nil)
	if err != nil {
		return "", err
	}
	return c.redact.clean(string(env.RequestID)), nil
}

// ListTemplates lists the approved WhatsApp MARKETING templates, page by page
// (50 a page) until the API's Total is reached, at most 5 calls per second.
func (c *Client) ListTemplates(ctx context.Context) ([]Template, error) {
	var out []Template
	seen, first := 0, ""
	for index := 1; index <= maxPages; index++ {
		page, total, err := c.listPage(ctx, index)
		if err != nil {
			return nil, err
		}
		seen += len(page)
		switch {
		case seen > MaxTemplates:
			return nil, &APIError{API: APITemplates, Code: CodeTooLarge, HTTPStatus: 200,
				Message: fmt.Sprintf("more than %d templates listed", MaxTemplates)}
		case len(page) > 0 && index > 1 && page[0].Code == first:
			// An endpoint that ignores Index would be paged to the end
			// of the limits, the same templates again and again.
			return nil, &APIError{API: APITemplates, Code: CodeInvalidResponse, HTTPStatus: 200,
				Message: fmt.Sprintf("page %d repeats page %d (Page.Index ignored?)", index, index-1)}
		case len(page) > 0:
			first = page[0].Code
		}
		for _, t := range page {
			if t.Monitored() {
				out = append(out, t)
			}
		}
		if len(page) == 0 || (total >= 0 && int64(seen) >= total) || (total < 0 && len(page) < pageSize) {
			break
		}
	}
	return out, nil
}

// MaxTemplates is the most templates ListTemplates reads (the monitor is
// measured at 10,000).
const MaxTemplates = 20000

// listPage reads page index of ListChatappTemplate: its templates and the
// Total the API reports (-1: none).
func (c *Client) listPage(ctx context.Context, index int) ([]Template, int64, error) {
	p := map[string]string{
		"Page":         fmt.Sprintf(`{"Index":%d,"Size":%d}`, index, pageSize),
		"AuditStatus":  "pass",
		"Category":     Marketing,
		"TemplateType": WhatsApp,
	}
	c.scope(p)
	var sink *templateSink
	env, err := c.call(ctx, c.templateLimit, APITemplates, "", p, func() itemSink {
		sink = newTemplateSink(c.redact.scrub)
		return sink
	})
	if err != nil {
		return nil, 0, err
	}
	page, total, err := sink.page(env)
	if err != nil {
		ae := err.(*APIError)
		ae.API, ae.RequestID, ae.HTTPStatus = APITemplates, c.redact.clean(string(env.RequestID)), 200
		return nil, 0, ae
	}
	return page, total, nil
}
