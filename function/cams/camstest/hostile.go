package camstest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Handler answers an authenticated request in place of the server: a
// hostile or broken endpoint. params are the request's parameters (the
// signed ones included, so that a handler can echo them).
type Handler func(w http.ResponseWriter, params url.Values)

// Handle makes the next n calls (n < 0: all) for template (or ListKey, or
// AnyTemplate) answer with h.
func (s *Server) Handle(template string, n int, h Handler) {
	s.mu.Lock()
	s.faults[template] = append(s.faults[template], &fault{handler: h, times: n})
	s.mu.Unlock()
}

// HugeBody answers HTTP 200 with a body of size bytes: the start of a good
// answer, then blanks that never end its JSON. With declare, the
// Content-Length says the size; without, the body is chunked and its size
// shows only by reading it. It is written from a small buffer: the server
// holds none of it.
func HugeBody(size int64, declare bool) Handler {
	return func(w http.ResponseWriter, _ url.Values) {
		head := `{"RequestId":"R-HUGE","Code":"OK","Data":[`
		if declare {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		if _, err := io.WriteString(w, head); err != nil {
			return
		}
		blank := []byte(strings.Repeat(" ", 64<<10))
		for left := size - int64(len(head)); left > 0; {
			n := min(left, int64(len(blank)))
			if _, err := w.Write(blank[:n]); err != nil {
				return // the client stopped reading
			}
			left -= n
		}
	}
}

// ManyBuckets answers HTTP 200 with n daily buckets of template, one a day
// from start, each with buttons button counts, written as they are
// generated.
func ManyBuckets(template string, n, buttons int, start time.Time) Handler {
	return func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		bw := bufio.NewWriterSize(w, 64<<10)
		defer bw.Flush()
		fmt.Fprint(bw, `{"RequestId":"R-MANY","Code":"OK","Data":[`)
		day := int64(24 * time.Hour / time.Millisecond)
		t0 := start.UnixMilli()
		cliented := strings.TrimSuffix(strings.Repeat(`{"Type":"url_button","ButtonContent":"Shop now","Count":3},`, buttons), ",")
		for i := 0; i < n; i++ {
			if i > 0 {
				bw.WriteByte(',')
			}
			s := t0 + int64(i)*day
			if _, err := fmt.Fprintf(bw, `{"TemplateCode":%q,"Language":"en","Start":%d,"End":%d,"SentCount":100,"DeliveredCount":90,"ReadCount":50,"Cliented":[%s]}`,
				template, s, s+day, cliented); err != nil {
				return
			}
		}
		fmt.Fprint(bw, `]}`)
	}
}

// DropMidBody answers HTTP 200 declaring body's length, writes its first
// at bytes and closes the connection. With closeDelimited, the answer has no
// length and no chunking (an HTTP/1.0-style body that ends when the
// connection does): the client cannot tell the cut from the end.
func DropMidBody(body []byte, at int, closeDelimited bool) Handler {
	return func(w http.ResponseWriter, _ url.Values) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
		if closeDelimited {
			fmt.Fprint(buf, "Connection: close\r\n\r\n")
		} else {
			fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", len(body))
		}
		buf.Write(body[:min(at, len(body))])
		buf.Flush()
	}
}

// Echo answers with status and an error body whose every field (RequestId,
// Code, Message, HostId, Recommend, AccessDeniedDetail) echoes the request's
// SecurityToken, AccessKeyId and Signature: a server (or a proxy) that
// reflects its input. With status 200 the body is a good answer whose data
// (template code, language, button text, template name) echoes them instead.
func Echo(status int) Handler {
	return func(w http.ResponseWriter, p url.Values) {
		echo := "tok=" + p.Get("SecurityToken") + " key=" + p.Get("AccessKeyId") + " sig=" + p.Get("Signature")
		var body string
		if status == 200 {
			body = fmt.Sprintf(`{"RequestId":%q,"Code":"OK","Message":%q,"Total":1,"Data":[{"TemplateCode":%q,"Language":%q,`+
				`"Start":1790784000000,"End":1790870400000,"SentCount":5,"Cliented":[{"Type":%q,"ButtonContent":%q,"Count":1}]}],`+
				`"ListTemplate":[{"TemplateCode":"T1","TemplateName":%q,"Language":%q,"Category":"MARKETING","AuditStatus":"pass"}]}`,
				echo, echo, echo, echo, echo, echo, echo, echo)
		} else {
			body = fmt.Sprintf(`{"RequestId":%q,"HostId":%q,"Code":%q,"Message":%q,"Recommend":%q,"AccessDeniedDetail":{"AuthAction":%q}}`,
				echo, echo, "Echo."+echo, echo, "https://api.aliyun.com/troubleshoot?q="+url.QueryEscape(echo), echo)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-acs-request-id", echo)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}
