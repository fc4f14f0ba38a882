package cams

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// TemplatesFile is the name of the recorded ListChatappTemplate response in a
// replay directory.
const TemplatesFile = "templates.json"

// Replay answers like a Client from recorded API responses, with no network
// and no credentials:
//
//   - <Dir>/<TemplateCode>.json is a GetChatappTemplateMetric response body,
//     exactly as the API returns it, holding every period; Metrics keeps the
//     buckets whose Start is in the query's window (and language).
//   - <Dir>/templates.json, optional, is a ListChatappTemplate response body;
//     without it ListTemplates lists every <TemplateCode>.json.
//
// A recorded body whose Code is not "OK" comes back as that *APIError (HTTP
// status 400, or 5xx for InternalError/ServiceUnavailable), so a recorded
// Ram.PermissionDeny replays as one. Use it as &Replay{Dir: dir}.
type Replay struct {
	Dir string

	calls atomic.Int64
}

// Stats counts the calls answered; a replay never retries.
func (r *Replay) Stats() (calls, retries int64) { return r.calls.Load(), 0 }

func validCode(code string) bool {
	return code != "" && code != "." && code != ".." && !strings.ContainsAny(code, `/\`+"\x00") &&
		!strings.EqualFold(code+".json", TemplatesFile)
}

// Metrics returns the recorded series of q.Template, cut to q's window.
func (r *Replay) Metrics(ctx context.Context, q Query) ([]*metrics.Series, error) {
	if err := ctx.Err(); err != nil {
		return nil, &APIError{API: APIMetric, Template: q.Template, Code: CodeCanceled, Message: err.Error(), err: err}
	}
	r.calls.Add(1)
	if !validCode(q.Template) {
		return nil, &APIError{API: APIMetric, Template: q.Template, Code: "InvalidTemplateCode", HTTPStatus: 400,
			Message: "not a template code"}
	}
	g := q.Granularity
	if g == "" {
		g = metrics.Daily
	}
	sink := newMetricSink(g, q.Template, q, nil)
	env, ae := readRecording(filepath.Join(r.Dir, q.Template+".json"), sink)
	if ae != nil {
		ae.API, ae.Template = APIMetric, q.Template
		if ae.Code == CodeNoRecording {
			ae.Message = "no recording " + q.Template + ".json in " + r.Dir
		}
		return nil, ae
	}
	all, derr := sink.result(env)
	var out []*metrics.Series
	for _, s := range all {
		if q.Language != "" && s.Language != q.Language {
			continue
		}
		kept := s.Periods[:0]
		for _, p := range s.Periods {
			if (q.Start.IsZero() || !p.Start.Before(q.Start)) && (q.End.IsZero() || p.Start.Before(q.End)) {
				kept = append(kept, p)
			}
		}
		if len(kept) > 0 {
			s.Periods = kept
			out = append(out, s)
		}
	}
	if derr != nil {
		return out, &APIError{API: APIMetric, Template: q.Template, Code: CodeInvalidData, HTTPStatus: 200,
			Message: truncate(strings.ReplaceAll(derr.Error(), "\n", "; "), 1000), RequestID: string(env.RequestID), err: derr}
	}
	if w := sink.warning(); w != nil {
		return out, w
	}
	return out, nil
}

// readRecording reads a recorded response as the client reads one from the
// network: streamed, within the same size limit. A missing file is
// CodeNoRecording.
func readRecording(path string, sink itemSink) (*envelope, *APIError) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &APIError{Code: CodeNoRecording, HTTPStatus: 404, Message: "no recording " + filepath.Base(path)}
		}
		return nil, &APIError{Code: "Replay.ReadError", Message: err.Error()}
	}
	defer f.Close()
	env, err := readEnvelope(&capReader{r: f, limit: DefaultMaxBody}, sink)
	if err != nil {
		ae := asAPIErr(err)
		ae.Message = filepath.Base(path) + ": " + ae.Message
		return nil, ae
	}
	if ae := env.check(0); ae != nil {
		return nil, ae
	}
	return env, nil
}

// ListTemplates returns the monitored templates of templates.json, or one
// template per recording when there is no templates.json.
func (r *Replay) ListTemplates(ctx context.Context) ([]Template, error) {
	if err := ctx.Err(); err != nil {
		return nil, &APIError{API: APITemplates, Code: CodeCanceled, Message: err.Error(), err: err}
	}
	r.calls.Add(1)
	sink := newTemplateSink(nil)
	env, ae := readRecording(filepath.Join(r.Dir, TemplatesFile), sink)
	if ae == nil {
		all, _, err := sink.page(env)
		if err != nil {
			ae := err.(*APIError)
			ae.API = APITemplates
			return nil, ae
		}
		var out []Template
		for _, t := range all {
			if t.Monitored() {
				out = append(out, t)
			}
		}
		return out, nil
	}
	if ae.Code != CodeNoRecording {
		ae.API = APITemplates
		return nil, ae
	}
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return nil, &APIError{API: APITemplates, Code: "Replay.ReadError", Message: err.Error()}
	}
	var out []Template
	for _, e := range entries {
		name := e.Name()
		code, ok := strings.CutSuffix(name, ".json")
		if e.IsDir() || !ok || !validCode(code) {
			continue
		}
		out = append(out, Template{Code: code, Name: code, Category: Marketing, AuditStatus: "pass", Type: WhatsApp})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}
