package cams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
		want   bool
	}{
		{"System.LimitControl", 400, true},
		{"Throttling.User", 400, true},
		{"SomethingElse", 429, true},
		{"ServiceUnavailable", 503, true},
		{"InternalError", 500, true},
		{"HTTP.502", 502, true},
		{CodeTimeout, 0, true},
		{CodeConnection, 0, true},
		{CodeNetwork, 0, true},
		{"Ram.PermissionDeny", 400, false},
		{"Product.Unsubscript", 400, false},
		{"Unknown.ResourceOwnerId", 400, false},
		{"Ram.PermissionDeny", 200, false},
		{"SignatureDoesNotMatch", 400, false},
		{"InvalidParameter", 400, false},
		{"InvalidAccessKeyId.NotFound", 404, false},
		{CodeDNS, 0, false},
		{CodeTLS, 0, false},
		{CodeSDKPanic, 400, false},
		{CodeSDKPanic, 500, true},
		{CodeInvalidResponse, 200, false},
		{CodeInvalidData, 200, false},
		{CodeCanceled, 0, false},
		{CodeDeadline, 0, false},
	} {
		e := &APIError{Code: tc.code, HTTPStatus: tc.status}
		if got := e.Retryable(); got != tc.want {
			t.Errorf("%s/%d: Retryable %v, want %v", tc.code, tc.status, got, tc.want)
		}
		if IsRetryable(fmt.Errorf("wrapped: %w", e)) != tc.want {
			t.Errorf("%s/%d: IsRetryable through wrapping", tc.code, tc.status)
		}
	}
}

func TestFromError(t *testing.T) {
	r := newRedactor("SecretValue123", "Token+/=456", "LTAIkeyid789")
	signedURL := "http://127.0.0.1:9/?AccessKeyId=LTAIkeyid789&SecurityToken=Token%2B%2F%3D456&Signature=abc"
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"timeout", &url.Error{Op: "Post", URL: signedURL, Err: timeoutErr{}}, CodeTimeout},
		{"reset", &url.Error{Op: "Post", URL: signedURL, Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, CodeConnection},
		{"refused", &url.Error{Op: "Post", URL: signedURL, Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, CodeConnection},
		{"eof", &url.Error{Op: "Post", URL: signedURL, Err: io.EOF}, CodeConnection},
		{"dns", &url.Error{Op: "Post", URL: signedURL, Err: &net.DNSError{Err: "no such host", Name: "x"}}, CodeDNS},
		{"canceled", &url.Error{Op: "Post", URL: signedURL, Err: context.Canceled}, CodeCanceled},
		{"server error", sdkerrors.NewServerError(400, `{"Code":"SignatureDoesNotMatch","RequestId":"R\n","Message":"server string to sign is:POST&%2F&AccessKeyId%3DLTAIkeyid789%26SecurityToken%3DToken%252B%252F%253D456"}`, ""), "SignatureDoesNotMatch"},
		{"server error without code", sdkerrors.NewServerError(502, `<html>`, ""), "HTTP.502"},
		{"client error", sdkerrors.NewClientError("SDK.Whatever", "failed at "+signedURL, nil), "SDK.Whatever"},
		{"other", errors.New("boom SecretValue123"), CodeSDK},
	} {
		ae := r.fromError(tc.err)
		if ae.Code != tc.code {
			t.Errorf("%s: code %s, want %s (%v)", tc.name, ae.Code, tc.code, ae)
		}
		s := ae.Error() + " " + ae.Message
		for _, secret := range []string{"SecretValue123", "Token", "LTAIkeyid789", "Signature=abc"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s: %q leaks %s", tc.name, s, secret)
			}
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
