package webhooks

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// key is one delivery as the receiver sees it: an event at one endpoint.
type key struct {
	endpoint int
	id       string
}

// receiver is a local endpoint for every subscribed webhook (/hook/<n>): it verifies each
// request with the Standard Webhooks library against that endpoint's secret and answers 204.
// It records when each delivery first succeeded, per phase (arm starts one).
type receiver struct {
	srv      *httptest.Server
	verifier []*standardwebhooks.Webhook
	rejected atomic.Int64 // requests that failed verification (a benchmark failure)

	mu       sync.Mutex
	want     int
	first    map[key]time.Time
	requests int
	done     chan struct{}
}

func newReceiver(secrets []string) (*receiver, error) {
	rc := &receiver{}
	for _, s := range secrets {
		v, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return nil, fmt.Errorf("receiver: %w", err)
		}
		rc.verifier = append(rc.verifier, v)
	}
	rc.arm(0)
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	return rc, nil
}

// url is endpoint n's address.
func (rc *receiver) url(n int) string { return rc.srv.URL + "/hook/" + strconv.Itoa(n) }

// arm starts a phase: done closes once want distinct deliveries have succeeded.
func (rc *receiver) arm(want int) <-chan struct{} {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.want, rc.first, rc.requests, rc.done = want, make(map[key]time.Time, want), 0, make(chan struct{})
	return rc.done
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	n, convErr := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hook/"))
	if err != nil || convErr != nil || n < 0 || n >= len(rc.verifier) || rc.verifier[n].Verify(body, r.Header) != nil {
		rc.rejected.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.record(key{n, r.Header.Get("webhook-id")}, at)
	w.WriteHeader(http.StatusNoContent)
}

// record notes a verified request; a duplicate keeps the first success's time.
func (rc *receiver) record(k key, at time.Time) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests++
	if _, seen := rc.first[k]; seen {
		return
	}
	rc.first[k] = at
	if len(rc.first) == rc.want {
		close(rc.done)
	}
}

// phase returns what the current phase received: first success per delivery, and requests in
// all (duplicates included).
func (rc *receiver) phase() (map[key]time.Time, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return maps.Clone(rc.first), rc.requests
}

func (rc *receiver) close() { rc.srv.Close() }
