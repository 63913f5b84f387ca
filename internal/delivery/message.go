package delivery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"qual.cx/operator/internal/signing"
	"qual.cx/operator/internal/store"
)

// envelope is the body every delivery POSTs.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Body renders an event as the JSON a receiver gets. The same event always renders the same
// bytes, so a retry is byte for byte the first attempt.
func Body(ev store.Event) ([]byte, error) {
	b, err := json.Marshal(envelope{ID: string(ev.ID), Type: ev.Type, CreatedAt: ev.CreatedAt.UTC(), Data: ev.Payload})
	if err != nil {
		return nil, fmt.Errorf("delivery: render event %s: %w", ev.ID, err)
	}
	return b, nil
}

// Sign returns the Standard Webhooks headers of a body sent at the time: webhook-id is the
// event id (stable across retries, so receivers can drop duplicates), and webhook-signature
// carries one `v1,<base64>` per live secret, space-separated.
func Sign(secrets []string, id string, at time.Time, body []byte) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("delivery: no signing secret")
	}
	ts := at.Unix()
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := signing.Sign(s, id, ts, body)
		if err != nil {
			return nil, fmt.Errorf("delivery: sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "qual-webhooks/1")
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return h, nil
}
