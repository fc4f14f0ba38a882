package cams

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

// API names.
const (
	APIMetric    = "GetChatappTemplateMetric"
	APITemplates = "ListChatappTemplate"
	APIEnableROI = "EnableWhatsappROIMetric"
)

// Error codes this package produces itself (the API's own codes pass through
// unchanged).
const (
	CodeThrottled        = "System.LimitControl"
	CodePermissionDenied = "Ram.PermissionDeny"
	CodeUnsubscribed     = "Product.Unsubscript"
	CodeUnknownOwner     = "Unknown.ResourceOwnerId"

	CodeTimeout         = "Net.Timeout"          // connect or read timeout: retryable
	CodeConnection      = "Net.Connection"       // reset, refused, EOF: retryable
	CodeNetwork         = "Net.Error"            // other transport failure: retryable
	CodeDNS             = "Net.DNS"              // host not found: permanent
	CodeTLS             = "Net.TLS"              // certificate problem: permanent
	CodeSDKPanic        = "SDK.Panic"            // the SDK panicked on a response
	CodeSDK             = "SDK.ClientError"      // other SDK client-side failure
	CodeInvalidResponse = "Response.Invalid"     // body is not the API's JSON
	CodeInvalidData     = "Response.InvalidData" // some buckets were rejected
	CodeCanceled        = "Context.Canceled"
	CodeDeadline        = "Context.DeadlineExceeded"
	CodeNoRecording     = "Replay.NotFound"
	CodeRedirect        = "Net.Redirect" // the endpoint redirected: not followed, permanent

	CodeTooLarge       = "Response.TooLarge"       // body past the read limit: permanent
	CodeTooManyBuckets = "Response.TooManyBuckets" // more buckets than the query can have: permanent

	// Warnings (*Warning): the fetch went on.
	CodeSpanMismatch     = "Response.SpanMismatch" // buckets of another granularity dropped
	CodeNamesUnavailable = "Names.Unavailable"     // template names could not be looked up
)

// Warning is a problem that did not stop a fetch: what came with it is good
// to use, and the problem belongs in the run's summary and health message.
// Metrics returns one (as its error, with the series) when it dropped buckets
// whose span is not of the requested granularity; LookupNames when the names
// could not be listed.
type Warning struct {
	API      string
	Template string // empty for ListChatappTemplate
	Code     string // CodeSpanMismatch, CodeNamesUnavailable
	Message  string
	Count    int // buckets dropped (CodeSpanMismatch)

	err error // the failure behind it, if any
}

func (w *Warning) Error() string {
	var b strings.Builder
	b.WriteString("cams ")
	b.WriteString(w.API)
	if w.Template != "" {
		fmt.Fprintf(&b, " template %s", w.Template)
	}
	fmt.Fprintf(&b, ": %s: %s", w.Code, w.Message)
	return b.String()
}

// Unwrap returns the failure behind the warning (the *APIError of a failed
// name lookup), if any.
func (w *Warning) Unwrap() error { return w.err }

// IsWarning reports whether err is a *Warning alone, no failure beside it:
// the caller may use what came with it.
func IsWarning(err error) bool {
	var w *Warning
	if !errors.As(err, &w) {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != nil && !IsWarning(e) {
				return false
			}
		}
		return true
	}
	_, direct := err.(*Warning)
	return direct
}

// APIError is every failure of a CAMS call: an API error code (also on an
// HTTP 200 whose Code is not "OK"), a transport failure, an SDK failure or a
// response that could not be decoded. Its strings never contain credentials.
type APIError struct {
	Template   string // template code, empty for ListChatappTemplate
	API        string // GetChatappTemplateMetric or ListChatappTemplate
	Code       string // the API's Code, or one of this package's Code* values
	Message    string
	RequestID  string
	HTTPStatus int // 0 when no response arrived

	err error // the underlying error (already redacted when it is a string)
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("cams ")
	if e.API != "" {
		b.WriteString(e.API)
	} else {
		b.WriteString("call")
	}
	if e.Template != "" {
		fmt.Fprintf(&b, " template %s", e.Template)
	}
	b.WriteString(": ")
	b.WriteString(e.Code)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" && e.Message != "None" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [RequestId %s]", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the cause (context.Canceled, context.DeadlineExceeded, a
// net.Error...) when there is one.
func (e *APIError) Unwrap() error { return e.err }

// Throttled reports whether the API refused the call for flow control.
func (e *APIError) Throttled() bool {
	switch e.Code {
	case CodeThrottled, "Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable.Throttling":
		return true
	}
	return e.HTTPStatus == 429
}

// Retryable reports whether the same call may succeed later: throttling,
// HTTP 5xx, timeouts and dropped connections are; permission, subscription and
// ownership errors, any other 4xx and undecodable answers are not.
func (e *APIError) Retryable() bool {
	if e.Throttled() {
		return true
	}
	switch e.Code {
	case CodePermissionDenied, CodeUnsubscribed, CodeUnknownOwner,
		CodeDNS, CodeTLS, CodeInvalidData, CodeCanceled, CodeDeadline, CodeNoRecording, CodeRedirect,
		CodeTooLarge, CodeTooManyBuckets:
		return false
	case CodeTimeout, CodeConnection, CodeNetwork,
		"ServiceUnavailable", "InternalError", "System.Error", "UnknownError":
		return true
	}
	return e.HTTPStatus >= 500
}

// IsRetryable reports whether err is an *APIError that is Retryable.
func IsRetryable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Retryable()
}

// statusForCode guesses the HTTP status of a recorded error body (which does
// not carry it).
func statusForCode(code string) int {
	switch code {
	case "OK", "":
		return 200
	case "InternalError", "System.Error", "UnknownError":
		return 500
	case "ServiceUnavailable":
		return 503
	}
	return 400
}

// redactor removes credentials from strings before they leave the package.
type redactor struct{ secrets []string }

func newRedactor(values ...string) *redactor {
	r := &redactor{}
	for _, v := range values {
		if len(v) < 4 {
			continue // too short to redact without mangling text; never a real key
		}
		r.secrets = append(r.secrets, v, url.QueryEscape(v), url.QueryEscape(url.QueryEscape(v)),
			strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
	}
	return r
}

var (
	urlQuery     = regexp.MustCompile(`(https?://[^\s?"']*)\?[^\s"']*`)
	stringToSign = regexp.MustCompile(`(?is)(string to sign is:?).*$`)
	// a signed query echoed without its scheme (a path, a log line)
	signingParam = regexp.MustCompile(`(?i)\b(AccessKeyId|SecurityToken|Signature|SignatureNonce)=[^&\s"'<>]*`)
)

func (r *redactor) clean(s string) string {
	s = stringToSign.ReplaceAllString(s, "$1 [redacted]")
	s = urlQuery.ReplaceAllString(s, "$1?[redacted]")
	s = signingParam.ReplaceAllString(s, "$1=[redacted]")
	if r != nil {
		for _, v := range r.secrets {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	s = strings.TrimSpace(s)
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// apiError cleans the fields of an error that a server can fill: a server
// that echoes the request (its SecurityToken) in any of them must not put
// the token on stderr.
func (r *redactor) apiError(ae *APIError) {
	ae.Code = r.clean(ae.Code)
	ae.Message = r.clean(ae.Message)
	ae.RequestID = r.clean(ae.RequestID)
}

// scrub removes the credentials from a value of the API's data (a template
// name, a button text): cheaper than clean, for every bucket.
func (r *redactor) scrub(s string) string {
	for _, v := range r.secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// fromError turns whatever the SDK returned into an *APIError.
func (r *redactor) fromError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		if code == "" {
			code = fmt.Sprintf("HTTP.%d", se.HttpStatus())
		}
		return &APIError{Code: code, Message: r.clean(se.Message()), RequestID: strings.TrimSpace(se.RequestId()),
			HTTPStatus: se.HttpStatus()}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &APIError{Code: CodeCanceled, Message: "canceled", err: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded) && !isTimeout(err):
		return &APIError{Code: CodeDeadline, Message: "deadline exceeded", err: context.DeadlineExceeded}
	}
	if code, msg, ok := classifyNet(err); ok {
		return &APIError{Code: code, Message: r.clean(msg), err: redactedError{code}}
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		code := ce.ErrorCode()
		if code == sdkerrors.TimeoutErrorCode {
			code = CodeTimeout
		}
		return &APIError{Code: code, Message: r.clean(ce.Message())}
	}
	return &APIError{Code: CodeSDK, Message: r.clean(err.Error())}
}

type redactedError struct{ code string }

func (e redactedError) Error() string { return e.code }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classifyNet recognizes transport errors. The message is built from the
// innermost error, never from a *url.Error (whose text holds the signed URL).
func classifyNet(err error) (code, msg string, ok bool) {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	var dnsErr *net.DNSError
	var certErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	switch {
	case isTimeout(err):
		return CodeTimeout, "timeout: " + inner.Error(), true
	case errors.As(err, &dnsErr):
		if dnsErr.IsTemporary || dnsErr.IsTimeout {
			return CodeNetwork, inner.Error(), true
		}
		return CodeDNS, inner.Error(), true
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &invalidCert),
		strings.Contains(inner.Error(), "x509:"), strings.Contains(inner.Error(), "tls:"):
		return CodeTLS, inner.Error(), true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return CodeConnection, inner.Error(), true
	}
	var opErr *net.OpError
	if ue != nil || errors.As(err, &opErr) {
		return CodeNetwork, inner.Error(), true
	}
	return "", "", false
}
