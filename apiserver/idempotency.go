package apiserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/store"
)

// idempotent makes a POST safe to repeat with an Idempotency-Key: a repeat with the same
// body within 24 h gets the first response; the same key with another body is 409. The key
// is claimed in the store before the request runs, so two identical requests racing each
// other run once: the loser is told to retry, then gets the replay. Records are kept per
// caller, so two callers' keys never collide, and the fingerprint covers the team the
// request acts in. Secrets shown once (withheld: fields of the answer's data, such as a new
// API key's plaintext) are never stored: a replay answers them as null.
func (s *Server) idempotent(h handlerFunc, withheld ...string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		// Two keys are refused rather than one picked: the client would not learn which
		// retry protects what. An empty one reads as none, as clients send an unset header.
		sent := r.Header.Values("Idempotency-Key")
		if len(sent) > 1 {
			return envelope.Field("Idempotency-Key", "must be sent once")
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r, p)
		}
		if len(key) > 255 || strings.IndexFunc(key, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
			return envelope.Field("Idempotency-Key", "must be at most 255 printable ASCII characters")
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxIdempotentBody+1))
		if err != nil {
			return envelope.New(envelope.CodeInvalidJSON, "The request body could not be read")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := fingerprint(r, p, body)
		records := s.cfg.Store.Team(store.TeamID("caller:" + p.ID()))
		claim, err := records.SaveIdempotency(r.Context(), store.IdempotencyRecord{Key: key, RequestHash: sum,
			ExpiresAt: time.Now().Add(claimLease)})
		switch {
		case errors.Is(err, store.ErrConflict):
			return s.replayOrRefuse(w, r, records, key, sum)
		case err != nil:
			return envelope.Unavailable("The database", 5*time.Second)
		}
		r = withClaim(r, heldClaim{stamp: claimStamp("caller:"+p.ID(), key, sum), withheld: withheld})
		return s.runClaimed(w, r, p, h, records, claim, withheld)
	}
}

// fingerprint identifies a request for its Idempotency-Key: method, path (the same under
// every base path, /v1 being an alias of /api/v1, its ids in the one spelling canonicalIDs
// gave them), acting team, body.
func fingerprint(r *http.Request, p *authn.Principal, body []byte) []byte {
	team := ""
	if p.Acting != nil {
		team = string(p.Acting.Object.UID)
	}
	h := sha256.New()
	_, _ = io.WriteString(h, r.Method+" "+apiPath(r.URL.Path)+"\n"+team+"\n")
	_, _ = h.Write(body)
	return h.Sum(nil)
}

// inNoTeam runs h, an endpoint whose outcome no team decides (a team's creation), as acting in
// none, so its Idempotency-Key fingerprint leaves the team out: a user's first team would
// otherwise be a request acting in no team on its first run and in the new team on a retry,
// which is then IDEMPOTENCY_CONFLICT instead of the replay. The request was charged to its
// team before it gets here.
func inNoTeam(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		teamless := *p
		teamless.Acting = nil
		return h(w, r, &teamless)
	}
}

// withhold replaces fields of a recorded answer's data with null, so the record never holds
// a secret that is shown once. An answer that is not such an object is kept as it is.
func withhold(body []byte, fields []string) []byte {
	if len(fields) == 0 {
		return body
	}
	var env map[string]map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil || env["data"] == nil {
		return body
	}
	for _, f := range fields {
		if _, ok := env["data"][f]; ok {
			env["data"][f] = json.RawMessage("null")
		}
	}
	out, err := json.Marshal(env)
	if err != nil {
		return body
	}
	return out
}

// runClaimed runs the request that holds the key's claim and records its answer, or gives
// the key up when the answer is one a retry may improve on (or the handler panicked). Both
// name the claim as saved, not just its key: a run that outlived its lease (stalled, not
// dead) may find its key taken over by a repeat, whose claim it must neither answer nor
// give up.
func (s *Server) runClaimed(w http.ResponseWriter, r *http.Request, p *authn.Principal, h handlerFunc,
	records store.TeamStore, claim store.IdempotencyRecord, withheld []string) error {
	rec := &statusRecorder{ResponseWriter: w, copyBody: &bytes.Buffer{}}
	ctx := context.WithoutCancel(r.Context()) // record the outcome even if the client left
	done := false
	defer func() {
		if !done {
			s.settleClaim(ctx, "give up idempotency key", func(ctx context.Context) error { return records.DeleteIdempotency(ctx, claim) })
		}
	}()
	if err := h(rec, r, p); err != nil {
		s.fail(rec, r, err)
	}
	if keepable(rec.status) {
		body := withhold(rec.copyBody.Bytes(), withheld)
		s.settleClaim(ctx, "record idempotent response", func(ctx context.Context) error {
			return records.CompleteIdempotency(ctx, claim, rec.status, body)
		})
		done = true
	}
	return nil
}

// settleClaim records or gives up a claimed key. When the database is briefly down, a claim
// left as it is would answer every repeat "still running" until it expires, so the write is
// retried in the background with a growing pause, for about two minutes.
func (s *Server) settleClaim(ctx context.Context, what string, write func(context.Context) error) {
	err := write(ctx)
	if err == nil {
		return
	}
	go func() {
		pause := 500 * time.Millisecond
		for attempt := 1; err != nil && attempt < 9; attempt++ {
			time.Sleep(pause)
			pause *= 2
			err = write(ctx)
		}
		if err != nil {
			s.cfg.Logger.Error(err, what)
		}
	}()
}

// replayOrRefuse answers a request whose key is already claimed.
func (s *Server) replayOrRefuse(w http.ResponseWriter, r *http.Request, records store.TeamStore, key string, sum []byte) error {
	prev, err := records.GetIdempotency(r.Context(), key)
	switch {
	case errors.Is(err, store.ErrNotFound): // given up or expired a moment ago
		return envelope.New(envelope.CodeConflict, "A request with this Idempotency-Key just finished; retry").WithRetry(time.Second)
	case err != nil:
		return envelope.Unavailable("The database", 5*time.Second)
	case prev.Gone != "" && (len(prev.RequestHash) == 0 || bytes.Equal(prev.RequestHash, sum)):
		// The campaign or interview the first request made or acted on was deleted since:
		// running it again would bring it back as a new one (an interview with the erased
		// participant's data), and its answer was erased with it. An interview's record lost
		// its request's fingerprint too, so it answers any request under its key.
		w.Header().Set("Idempotent-Replayed", "true")
		return envelope.New(envelope.CodeNotFound, "The %s %s this request made or acted on was deleted; this Idempotency-Key answers so until it expires",
			prev.GoneKind, prev.Gone)
	case !bytes.Equal(prev.RequestHash, sum):
		return envelope.New(envelope.CodeIdempotencyConflict, "This Idempotency-Key was used with another request")
	case prev.StatusCode == 0:
		return stillClaimed(prev, time.Now())
	}
	replay(w, prev)
	return nil
}

// stillClaimed answers a repeat of a request whose claim holds. While the claim is younger
// than a request may run, the request is likely running: retry in a second. An older one
// outlived its process (or its answer could not be recorded): the repeat can run only once the
// lease is over, so Retry-After says when, rather than send the client round every second.
func stillClaimed(prev store.IdempotencyRecord, now time.Time) *envelope.Error {
	wait := time.Second
	if now.Sub(prev.CreatedAt) > maxRequestTime {
		wait = max(prev.ExpiresAt.Sub(now).Truncate(time.Second)+time.Second, time.Second)
		return envelope.New(envelope.CodeConflict,
			"A request with this Idempotency-Key started %s ago and has not answered; it can be retried once its claim ends in %s",
			now.Sub(prev.CreatedAt).Truncate(time.Second), wait).WithRetry(wait)
	}
	return envelope.New(envelope.CodeConflict, "A request with this Idempotency-Key is still running; retry").WithRetry(wait)
}

// maxRequestTime is the longest a request runs: the server's write timeout.
const maxRequestTime = time.Minute

// claimLease is how long a key's claim holds while its request runs: longer than any request
// (the server's write timeout is a minute) and than settleClaim's retries of the record (about
// two minutes), so only a claim whose process died outlives it. The repeat after that runs
// the request again, as after a 5xx, and a create then finds the object the dead run made by
// its claim stamp (idempotency_claim.go); the answer the first run recorded, once there is
// one, stays a day. The dead claim still binds the key to its request for that day (the
// store keeps it): another request under the key is IDEMPOTENCY_CONFLICT, as it would be
// after an answer, since it would not find what the dead run made by its stamp.
const claimLease = 5 * time.Minute

// maxIdempotentBody matches the body limit; decode refuses anything larger anyway.
const maxIdempotentBody = 1 << 20

// keepable says which answers a repeat gets again: successes and client errors, but not a
// rate limit or a lost race, which a retry may well get past.
func keepable(status int) bool {
	return status < 500 && status != http.StatusTooManyRequests && status != http.StatusConflict
}

func replay(w http.ResponseWriter, rec store.IdempotencyRecord) {
	h := w.Header()
	h.Set("Idempotent-Replayed", "true")
	envelope.WriteBody(w, rec.StatusCode, rec.Body)
}

// purgeEvery is how often expired idempotency records are deleted.
const purgeEvery = 10 * time.Minute

// purgeReplays deletes expired idempotency records (their answers hold participants' words)
// until ctx ends: on start, then every purgeEvery, in batches. Replicas may purge at once.
func (s *Server) purgeReplays(ctx context.Context) {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		for {
			n, err := s.cfg.Store.PurgeReplays(ctx, store.MaxSweepLimit)
			if err != nil {
				if ctx.Err() == nil {
					s.cfg.Logger.Error(err, "purge expired idempotency records")
				}
				break
			}
			if n < store.MaxSweepLimit {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
