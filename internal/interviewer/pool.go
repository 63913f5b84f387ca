package interviewer

import (
	"crypto/sha256"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

// Pool shares one [LLM] per provider, that is per (BaseURL, Model, APIKey), so that every
// turn against a provider sees the same circuit breaker: a breaker per request would
// never open. Create one Pool per process and call Get on each turn.
//
// The first Get for a provider fixes its other settings (timeout, retries, HTTP client,
// breaker); later calls with the same key get that LLM whatever else their config says.
// Entries are never evicted: a process talks to a handful of providers, and a rotated API
// key makes a new entry while the old one is just no longer used.
type Pool struct {
	fallback Fallback
	log      logr.Logger

	mu   sync.Mutex
	llms map[poolKey]*LLM
}

// poolKey identifies a provider. The API key is kept as a hash so that the map does not
// hold another copy of the secret.
type poolKey struct {
	baseURL, model string
	apiKey         [sha256.Size]byte
}

// NewPool returns an empty pool whose LLMs fall back to fallback (a new [Protocol] when nil)
// and log to log.
func NewPool(fallback Fallback, log logr.Logger) *Pool {
	return &Pool{fallback: fallback, log: log, llms: make(map[poolKey]*LLM)}
}

// Get returns the pool's LLM for cfg's provider, creating it on first use. It fails only
// when cfg is unusable (see [NewLLM]); a failed config is not cached.
func (p *Pool) Get(cfg LLMConfig) (*LLM, error) {
	key := poolKey{
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		model:   cfg.Model,
		apiKey:  sha256.Sum256([]byte(cfg.APIKey)),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.llms[key]; ok {
		return l, nil
	}
	l, err := NewLLM(cfg, p.fallback, p.log)
	if err != nil {
		return nil, err
	}
	p.llms[key] = l
	return l, nil
}
