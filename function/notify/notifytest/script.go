// Package notifytest runs local fake Slack and DingTalk servers for tests.
// They check payloads the way the platforms do (and a little more: they
// reject data that was not escaped), record what they accept, and can be
// scripted to fail.
package notifytest

import (
	"net/http"
	"sync"
	"time"
)

// Response is one scripted answer that replaces the normal handling of a
// request: wait Delay (or until the client gives up), then answer Status
// with Header and Body. Status 0 with a Delay only delays the normal
// handling (a slow server).
type Response struct {
	Status int
	Header map[string]string
	Body   string
	Delay  time.Duration
}

// script is a queue of scripted responses shared by both fakes.
type script struct {
	mu       sync.Mutex
	queue    []Response
	requests int
}

func (s *script) add(n int, r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.queue = append(s.queue, r)
	}
}

// next counts a request and pops the scripted response, if any.
func (s *script) next() (Response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.queue) == 0 {
		return Response{}, false
	}
	r := s.queue[0]
	s.queue = s.queue[1:]
	return r, true
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// serve plays r; it reports whether the request was fully answered.
func serve(w http.ResponseWriter, req *http.Request, r Response) bool {
	if r.Delay > 0 {
		t := time.NewTimer(r.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done():
			return true
		}
	}
	if r.Status == 0 {
		return false
	}
	for k, v := range r.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write([]byte(r.Body))
	return true
}
