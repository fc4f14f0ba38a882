package cams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Response limits. A body is read as a stream and never held whole, but a
// hostile or broken endpoint could still send a gigabyte, or a million
// buckets: past these limits the call fails (Response.TooLarge,
// Response.TooManyBuckets) instead of the run running out of memory.
const (
	// DefaultMaxBody is the largest response body read. The biggest real
	// answer (HALF_HOUR over four weeks, a dozen languages) is under 5 MiB.
	DefaultMaxBody = 8 << 20
	// bodySlots is how many bodies one client reads at a time: each read
	// holds at most about one body's size in memory, so this bounds the
	// memory of all concurrent calls. Real bodies are small and read in
	// milliseconds, so the 50 QPS budget is never held back by it.
	bodySlots = 4
	// maxItemBytes is the largest element of Data or ListTemplate (a real
	// bucket is under 1 KB).
	maxItemBytes = 64 << 10
	// maxKeptErrors is how many rejected buckets are named in an error;
	// the others are counted.
	maxKeptErrors = 20
)

// itemSink takes the elements of a response's Data or ListTemplate array one
// at a time, as they are read. An error stops the read.
type itemSink interface {
	item(field string, raw json.RawMessage) error
}

// envelope is the part every CAMS response shares.
type envelope struct {
	Code      flexString
	Message   flexString
	RequestID flexString
	Total     flexInt

	dataSeen, dataNotArray bool // Data present; Data present but not an array
	listSeen, listNotArray bool // the same for ListTemplate
}

// errTooLarge is a body that went past the read limit.
type errTooLarge struct {
	limit, length int64 // length: the declared Content-Length, or -1
}

func (e *errTooLarge) Error() string {
	if e.length > 0 {
		return fmt.Sprintf("response body of %d bytes exceeds the %s limit", e.length, mib(e.limit))
	}
	return fmt.Sprintf("response body exceeds the %s limit (reading stopped there)", mib(e.limit))
}

func mib(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d-byte", n)
}

// capReader reads at most limit bytes, then fails with *errTooLarge if the
// body goes on. It records the underlying reader's own failure (a dropped
// connection) apart from the decoder's complaints.
type capReader struct {
	r     io.Reader
	limit int64
	n     int64
	err   error // the first non-EOF error of r, or *errTooLarge
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.n >= c.limit {
		var one [1]byte
		if n, err := c.r.Read(one[:]); n > 0 {
			c.err = &errTooLarge{limit: c.limit, length: -1}
			return 0, c.err
		} else if err != nil {
			return 0, c.fail(err)
		}
		return 0, nil
	}
	if rest := c.limit - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, c.fail(err)
}

func (c *capReader) fail(err error) error {
	if err != nil && err != io.EOF {
		c.err = err
	}
	return err
}

// readEnvelope reads a response body as a stream: the envelope's fields, and
// each element of Data and ListTemplate handed to sink (nil: skipped) without
// holding the array. Errors: the reader's own (a dropped connection,
// *errTooLarge), the sink's, or an *APIError with CodeInvalidResponse for a
// body that is not the API's JSON; a body that ends inside its JSON
// unwraps to io.ErrUnexpectedEOF.
func readEnvelope(r io.Reader, sink itemSink) (*envelope, error) {
	cr, ok := r.(*capReader)
	if !ok {
		cr = &capReader{r: r, limit: DefaultMaxBody}
	}
	dec := json.NewDecoder(&squeeze{r: cr})
	env := &envelope{}
	err := readObject(dec, env, sink)
	if err == nil {
		// Nothing may follow the object (json.Unmarshal's rule).
		if _, terr := dec.Token(); terr != io.EOF {
			err = fmt.Errorf("data after the JSON object")
			if terr != nil {
				err = terr
			}
		}
	}
	switch {
	case err == nil:
		return env, nil
	case cr.err != nil:
		return nil, cr.err
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return nil, err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, &APIError{Code: CodeInvalidResponse, err: io.ErrUnexpectedEOF,
			Message: fmt.Sprintf("response ends after %d bytes, inside its JSON", cr.n)}
	}
	if err == io.EOF {
		return nil, &APIError{Code: CodeInvalidResponse, Message: "response is empty"}
	}
	return nil, &APIError{Code: CodeInvalidResponse, Message: "response is not valid JSON: " + truncate(err.Error(), 200)}
}

var errNotObject = errors.New("response is not a JSON object")

// squeeze turns each run of blanks outside JSON strings into one. The
// decoder keeps the blanks it skips in its buffer and scans them again at
// every read: a body of 8 MiB of blanks would cost seconds of CPU.
type squeeze struct {
	r        io.Reader
	inString bool
	escaped  bool
	blank    bool // the last byte passed on was a blank outside a string
}

func (s *squeeze) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		out := 0
		for _, c := range p[:n] {
			switch {
			case s.inString:
				s.inString = s.escaped || c != '"'
				s.escaped = !s.escaped && c == '\\'
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				if s.blank {
					continue
				}
				s.blank = true
				p[out] = c
				out++
				continue
			case c == '"':
				s.inString = true
			}
			s.blank = false
			p[out] = c
			out++
		}
		if out > 0 || err != nil || n == 0 {
			return out, err
		}
	}
}

func readObject(dec *json.Decoder, env *envelope, sink itemSink) error {
	tok, err := dec.Token()
	if err != nil {
		if _, syntax := err.(*json.SyntaxError); syntax {
			return &APIError{Code: CodeInvalidResponse, Message: errNotObject.Error()}
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &APIError{Code: CodeInvalidResponse, Message: errNotObject.Error()}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if err := readField(dec, env, key, sink); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing brace
	return err
}

// readField reads one field of the envelope. Names match case-insensitively,
// as encoding/json matches struct fields.
func readField(dec *json.Decoder, env *envelope, key string, sink itemSink) error {
	switch {
	case strings.EqualFold(key, "Data"):
		env.dataSeen = true
		return readArray(dec, "Data", sink, &env.dataNotArray)
	case strings.EqualFold(key, "ListTemplate"):
		env.listSeen = true
		return readArray(dec, "ListTemplate", sink, &env.listNotArray)
	case strings.EqualFold(key, "Code"):
		return dec.Decode(&env.Code)
	case strings.EqualFold(key, "Message"):
		return dec.Decode(&env.Message)
	case strings.EqualFold(key, "RequestId"):
		return dec.Decode(&env.RequestID)
	case strings.EqualFold(key, "Total"):
		return dec.Decode(&env.Total)
	}
	return skipValue(dec)
}

// readArray hands each element of an array to sink. null is an empty array;
// anything else sets notArray and is skipped.
func readArray(dec *json.Decoder, field string, sink itemSink, notArray *bool) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, isDelim := tok.(json.Delim)
	switch {
	case tok == nil:
		return nil
	case !isDelim:
		*notArray = true
		return nil
	case d == '{':
		*notArray = true
		return skipRest(dec, 1)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if len(raw) > maxItemBytes {
			return &APIError{Code: CodeTooLarge, Message: fmt.Sprintf("an element of %s is %d bytes (the limit is %d)",
				field, len(raw), maxItemBytes)}
		}
		if sink != nil {
			if err := sink.item(field, raw); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // ]
	return err
}

// skipValue skips one value without keeping it.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return skipRest(dec, 1)
	}
	return nil
}

// maxSkipDepth bounds the nesting of a skipped value: the decoder keeps a
// stack entry per level.
const maxSkipDepth = 256

// skipRest skips tokens until depth open delimiters are closed.
func skipRest(dec *json.Decoder, depth int) error {
	for depth > 0 {
		if depth > maxSkipDepth {
			return &APIError{Code: CodeInvalidResponse, Message: fmt.Sprintf("JSON nested deeper than %d levels", maxSkipDepth)}
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// check turns an envelope whose Code is not "OK" into that code's error.
func (env *envelope) check(status int) *APIError {
	code := string(env.Code)
	if code == "OK" {
		return nil
	}
	msg := truncate(env.Message.orNone(), 500)
	if code == "" {
		code, msg = CodeInvalidResponse, "response has no Code"
	}
	if status == 0 {
		status = statusForCode(code)
	}
	return &APIError{Code: code, Message: msg, RequestID: string(env.RequestID), HTTPStatus: status}
}

// parseEnvelope reads a whole body (a recording, a test's input) and checks
// its Code.
func parseEnvelope(body []byte, status int, sink itemSink) (*envelope, *APIError) {
	env, err := readEnvelope(&capReader{r: bytes.NewReader(body), limit: int64(len(body))}, sink)
	if err != nil {
		ae := asAPIErr(err)
		ae.HTTPStatus = status
		return nil, ae
	}
	if ae := env.check(status); ae != nil {
		return nil, ae
	}
	return env, nil
}

// asAPIErr returns err as an *APIError, wrapping what is not one.
func asAPIErr(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var tl *errTooLarge
	if errors.As(err, &tl) {
		return &APIError{Code: CodeTooLarge, Message: tl.Error()}
	}
	return &APIError{Code: CodeInvalidResponse, Message: truncate(err.Error(), 200)}
}
