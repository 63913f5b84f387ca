package interviewer

import (
	"testing"

	"github.com/go-logr/logr"

	"qual.cx/operator/internal/chatmodel"
)

func TestPoolSharesOneLLMPerProvider(t *testing.T) {
	pool := NewPool(nil, logr.Discard())
	cfg := LLMConfig{Config: chatmodel.Config{BaseURL: "https://llm.example/v1", Model: "m", APIKey: "k"}}
	a := mustGet(t, pool, cfg)
	same := cfg
	same.BaseURL += "/"
	same.Timeout = 1 // other settings do not make another provider
	if b := mustGet(t, pool, same); b != a {
		t.Fatal("same provider, different LLM")
	}
	for name, other := range map[string]LLMConfig{
		"model": {Config: chatmodel.Config{BaseURL: cfg.BaseURL, Model: "m2", APIKey: "k"}},
		"key":   {Config: chatmodel.Config{BaseURL: cfg.BaseURL, Model: "m", APIKey: "k2"}},
		"url":   {Config: chatmodel.Config{BaseURL: "https://other.example/v1", Model: "m", APIKey: "k"}},
	} {
		if b := mustGet(t, pool, other); b == a {
			t.Errorf("different %s, same LLM", name)
		}
	}
	if _, ok := mustGet(t, pool, cfg).fallback.(*Protocol); !ok {
		t.Error("nil fallback is not the protocol")
	}
}

func TestPoolDoesNotCacheUnusableConfig(t *testing.T) {
	pool := NewPool(NewProtocol(), logr.Discard())
	if _, err := pool.Get(LLMConfig{Config: chatmodel.Config{BaseURL: "https://llm.example/v1"}}); err == nil {
		t.Fatal("no error without a model")
	}
	if len(pool.llms) != 0 {
		t.Fatalf("%d cached", len(pool.llms))
	}
}

func mustGet(t *testing.T, p *Pool, cfg LLMConfig) *LLM {
	t.Helper()
	l, err := p.Get(cfg)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return l
}
