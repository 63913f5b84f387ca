package apiserver

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"

	"qual.cx/operator/apiserver/authn"
	"qual.cx/operator/apiserver/envelope"
	"qual.cx/operator/internal/store"
)

// idempotent makes a POST safe to repeat with an Idempotency-Key: a repeat with the same
// body within 24 h gets the first response; the same key with another body is 409.
// Records are kept per caller, so two callers' keys never collide.
func (s *Server) idempotent(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authn.Principal) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r, p)
		}
		if len(key) > 255 {
			return envelope.Field("Idempotency-Key", "must be at most 255 characters")
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxIdempotentBody+1))
		if err != nil {
			return envelope.New(envelope.CodeInvalidJSON, "The request body could not be read")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
		records := s.cfg.Store.Team(store.TeamID("caller:" + p.ID()))
		prev, err := records.GetIdempotency(r.Context(), key)
		switch {
		case err == nil && bytes.Equal(prev.RequestHash, sum[:]):
			replay(w, prev)
			return nil
		case err == nil:
			return envelope.New(envelope.CodeIdempotencyConflict, "This Idempotency-Key was used with another request")
		case !errors.Is(err, store.ErrNotFound):
			return envelope.Unavailable("The database", 5e9)
		}
		rec := &statusRecorder{ResponseWriter: w, copyBody: &bytes.Buffer{}}
		if err := h(rec, r, p); err != nil {
			s.fail(rec, r, err)
		}
		if keepable(rec.status) {
			_, err := records.SaveIdempotency(r.Context(), store.IdempotencyRecord{
				Key: key, RequestHash: sum[:], StatusCode: rec.status, Body: rec.copyBody.Bytes(),
			})
			if err != nil && !errors.Is(err, store.ErrConflict) {
				s.cfg.Logger.Error(err, "save idempotency record")
			}
		}
		return nil
	}
}

// maxIdempotentBody matches the body limit; decode refuses anything larger anyway.
const maxIdempotentBody = 1 << 20

// keepable says which answers a repeat gets again: successes and client errors, but not a
// rate limit or a lost race, which a retry may well get past.
func keepable(status int) bool {
	return status < 500 && status != http.StatusTooManyRequests && status != http.StatusConflict
}

func replay(w http.ResponseWriter, rec store.IdempotencyRecord) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.StatusCode)
	_, _ = w.Write(rec.Body)
}
