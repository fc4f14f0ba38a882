package cams

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	rtmetrics "runtime/metrics"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// Resource limits of one decode in the fuzz targets: allocations linear in
// the input (with room for the decoder's buffers and the fixed cost of a
// call), and well under a second.
const (
	fuzzAllocPerByte = 64
	fuzzAllocFixed   = 1 << 20
	fuzzTimeLimit    = time.Second
)

func allocated() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// bounded runs f and fails when it allocates more than the limits allow for
// an input of n bytes, or takes longer than fuzzTimeLimit.
func bounded(t *testing.T, n int, f func()) {
	t.Helper()
	before, start := allocated(), time.Now()
	f()
	el, alloc := time.Since(start), allocated()-before
	if limit := uint64(fuzzAllocPerByte*n + fuzzAllocFixed); alloc > limit {
		t.Fatalf("%d-byte input: %d bytes allocated, limit %d", n, alloc, limit)
	}
	if el > fuzzTimeLimit {
		t.Fatalf("%d-byte input: took %v", n, el)
	}
}

// FuzzReadEnvelope: the streaming reader, with both sinks and a reader that
// hands out one byte at a time (as a slow network would), never panics,
// stays within the limits, and agrees with the whole-body path.
func FuzzReadEnvelope(f *testing.F) {
	f.Add([]byte(`{"Code":"OK","Total":"2","ListTemplate":[{"TemplateCode":"T","TemplateName":"n"}],"Data":[{"Start":1790784000000}]}`))
	f.Add([]byte(`{"Code":"OK","Data":{"a":[[[[1]]]]},"ListTemplate":"x","Extra":[{"b":null}]}  `))
	f.Add([]byte(`{"code":"ok","DATA":[ 1 , "a\"]" ,  {} ]}`))
	f.Add([]byte(`{"Code":"OK","Data":[`))
	f.Add([]byte(`{"Code":"OK"} {"Code":"OK"}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var whole, slow struct {
			env *envelope
			err error
		}
		bounded(t, len(body), func() {
			sink := newMetricSink(metrics.Daily, "T", Query{}, nil)
			whole.env, whole.err = readEnvelope(&capReader{r: bytes.NewReader(body), limit: DefaultMaxBody}, sink)
			if whole.err == nil {
				_, _ = sink.result(whole.env)
			}
		})
		bounded(t, len(body), func() {
			sink := newTemplateSink(nil)
			slow.env, slow.err = readEnvelope(&capReader{r: iotest.OneByteReader(bytes.NewReader(body)), limit: DefaultMaxBody}, sink)
			if slow.err == nil {
				_, _, _ = sink.page(slow.env)
			}
		})
		if (whole.err == nil) != (slow.err == nil) {
			t.Fatalf("one byte at a time: %v; whole: %v", slow.err, whole.err)
		}
		if whole.err == nil && (whole.env.Code != slow.env.Code || whole.env.RequestID != slow.env.RequestID) {
			t.Fatalf("envelopes differ: %+v / %+v", whole.env, slow.env)
		}
	})
}

// FuzzSqueeze: squeezing blanks never changes what a JSON text means, and
// never makes it longer.
func FuzzSqueeze(f *testing.F) {
	f.Add([]byte(`{"a" :  [1,   2], "b":"  x  \"  y  ", "c" : "\\"   }`))
	f.Add([]byte("\t\n {\r\n}  "))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out []byte
		bounded(t, len(in), func() {
			var err error
			out, err = io.ReadAll(&squeeze{r: iotest.HalfReader(bytes.NewReader(in))})
			if err != nil {
				t.Fatal(err)
			}
		})
		if len(out) > len(in) {
			t.Fatalf("squeezed %d bytes into %d", len(in), len(out))
		}
		var a, b any
		errA, errB := json.Unmarshal(in, &a), json.Unmarshal(out, &b)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Fatalf("%q means %v (%v), squeezed %q means %v (%v)", in, a, errA, out, b, errB)
		}
	})
}
