package apiserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"qual.cx/operator/apiserver/envelope"
)

// middleware wraps every request: request id, panic recovery, metrics and the access log.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r.Header.Get("X-Request-Id"))
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.cfg.Logger.Error(nil, "panic serving request", "panic", v, "request_id", id, "stack", string(debug.Stack()))
				if rec.status == 0 {
					envelope.WriteError(rec, envelope.Internal())
				}
			}
			route := r.Pattern
			if route == "" || route == catchAll {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			// The method is the client's to choose: the log, like the metrics, writes only
			// the closed set of methodLabel, so no client can fill it with a string of its own.
			method := methodLabel(r.Method)
			s.metrics.observe(route, method, rec.status, elapsed)
			s.cfg.Logger.Info("request", "method", method, "path", loggedPath(r), "route", route,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds())/1000, "request_id", id)
		}()
		next.ServeHTTP(rec, r)
	})
}

// loggedPath is the request's path for the access log, with a secret or personal segment
// replaced: a share token (a bearer credential: whoever holds it reads the graph) and a
// member's e-mail (personal data, never logged). It goes by the path, not the matched route,
// and reads it as a mistyped link might be written: a wrong method, a preflight, a trailing
// slash, a doubled slash or another case reaches no route but still carries the secret. So
// everything after a hidden prefix goes, and so does any segment shaped like a token
// wherever it is ("/share/assets/<token>", "/campaigns/<token>").
func loggedPath(r *http.Request) string {
	segs := strings.Split(r.URL.Path, "/")
	var seen []string // the non-empty segments before the current one, lower-cased
	for i, seg := range segs {
		if seg == "" {
			continue
		}
		for _, h := range hiddenPaths {
			if len(seen) >= len(h.after) && slices.Equal(seen[len(seen)-len(h.after):], h.after) {
				return strings.Join(segs[:i], "/") + "/" + h.as
			}
		}
		if tokenShaped(seg) {
			segs[i] = "{token}"
		}
		seen = append(seen, strings.ToLower(seg))
	}
	return strings.Join(segs, "/")
}

// hiddenPaths are the segments a secret or personal segment follows: a share token on the
// page and in the public JSON (and their singular slips), and a member's e-mail or user ID.
var hiddenPaths = []struct {
	after []string
	as    string
}{
	{strings.Split(strings.Trim(sharePagePath, "/"), "/"), "{token}"}, {[]string{"shared", "graphs"}, "{token}"},
	{[]string{"share", "graph"}, "{token}"}, {[]string{"shared", "graph"}, "{token}"},
	{[]string{"members"}, "{user_id}"},
}

// tokenShaped says a path segment could be a share token: 32 or more characters of the
// URL-safe base64 alphabet, and not one of the API's ids (UUIDs).
func tokenShaped(seg string) bool {
	if len(seg) < 32 || isUUID(seg) {
		return false
	}
	for i := 0; i < len(seg); i++ {
		if !tokenByte(seg[i]) {
			return false
		}
	}
	return true
}

// requestID echoes a client's id when it is a sane token, else makes one.
func requestID(given string) string {
	if n := len(given); n > 0 && n <= 128 {
		ok := true
		for i := 0; i < n && ok; i++ {
			ok = given[i] > ' ' && given[i] < 0x7f
		}
		if ok {
			return given
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status and size of a response, and a copy of the body when
// copyBody is set (for idempotent replays).
type statusRecorder struct {
	http.ResponseWriter
	status   int
	bytes    int
	copyBody *bytes.Buffer
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.copyBody != nil {
		r.copyBody.Write(b)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// httpMetrics are the per-route request metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qual_http_requests_total", Help: "REST requests by route, method and status class.",
		}, []string{"route", "method", "status_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "qual_http_request_duration_seconds", Help: "REST request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// servedMethods are the methods some route serves (HEAD through its GET route, OPTIONS as a
// CORS preflight). They are the only values of the metrics' method label and of the access
// log's method.
var servedMethods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodPut,
	http.MethodDelete, http.MethodOptions}

// otherMethod labels every method no route serves. The method is the client's to choose, of
// any length, before any authentication: labelling it as sent would let anyone add series
// (15 per method) to every replica and to the monitoring stack without limit.
const otherMethod = "other"

// methodLabel is the method label of a request: its method if a route serves it, else
// otherMethod.
func methodLabel(method string) string {
	if slices.Contains(servedMethods[:], method) {
		return method
	}
	return otherMethod
}

var statusClasses = [...]string{"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends 200
	}
	class := "5xx"
	if status >= 100 && status < 600 {
		class = statusClasses[status/100]
	}
	m.requests.WithLabelValues(route, method, class).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}
