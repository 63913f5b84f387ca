package interviews

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"qual.cx/operator/internal/chatmodel"
	"qual.cx/operator/internal/interviewer"
)

// Keys of the provider Secret.
const (
	SecretBaseURL = "baseURL"
	SecretModel   = "model"
	SecretAPIKey  = "apiKey"
)

// errBadSecret: the provider Secret exists but does not configure a model.
var errBadSecret = errors.New("interviews: unusable LLM provider Secret")

// DefaultProviderRefresh is how often the provider Secret is read again, so a rotated key or
// a new model takes effect without a restart.
const DefaultProviderRefresh = 30 * time.Second

// Provider is the operator's chat model for llm campaigns, configured by one Secret in the
// operator's namespace (keys baseURL, model and apiKey), which tenants cannot read or
// write: no tenant can aim the server at an address of its choosing or read the model's
// key. While the Secret is missing or unusable there is no model, and llm campaigns are held
// by the protocol interviewer.
type Provider struct {
	// Reader reads the Secret directly: it is one object, read every Refresh, so it needs no
	// cache (nor the Secrets RBAC a cache would need).
	Reader client.Reader
	Secret types.NamespacedName
	// Refresh is how often the Secret is read (DefaultProviderRefresh when zero).
	Refresh time.Duration
	// Pool shares each model's interviewer, and so its circuit breaker, across turns.
	Pool *interviewer.Pool
	// HTTPClient carries the model's requests; nil uses the default transport.
	HTTPClient *http.Client
	Log        logr.Logger

	current atomic.Pointer[model]
	seen    atomic.Value // the last configuration error logged, so it is logged once
}

// model is the configured chat model and its interviewer.
type model struct {
	cfg chatmodel.Config
	llm *interviewer.LLM
}

// Interviewer is the model's interviewer, or nil when none is configured. It never blocks on
// the Kubernetes API: Run keeps it current.
func (p *Provider) Interviewer(context.Context) interviewer.Interviewer {
	if m := p.current.Load(); m != nil {
		return m.llm
	}
	return nil
}

// Model is the configured chat model, for the LLM analyzer; ok is false while there is none.
func (p *Provider) Model() (cfg chatmodel.Config, ok bool) {
	if m := p.current.Load(); m != nil {
		return m.cfg, true
	}
	return chatmodel.Config{}, false
}

// Run reads the Secret now and every Refresh until ctx ends. A failed read keeps the model
// it had: an outage of the Kubernetes API must not switch interviewers.
func (p *Provider) Run(ctx context.Context) {
	refresh := p.Refresh
	if refresh <= 0 {
		refresh = DefaultProviderRefresh
	}
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		p.load(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Provider) load(ctx context.Context) {
	cfg, err := p.read(ctx)
	switch {
	case apierrors.IsNotFound(err):
		p.current.Store(nil)
		p.logOnce("no LLM provider Secret: llm campaigns are held by the protocol interviewer", nil)
		return
	case errors.Is(err, errBadSecret):
		p.current.Store(nil)
		p.logOnce("the LLM provider Secret is unusable: llm campaigns are held by the protocol interviewer", err)
		return
	case err != nil:
		p.logOnce("reading the LLM provider Secret failed; keeping the model in use", err)
		return
	}
	llm, err := p.Pool.Get(cfg)
	if err != nil {
		p.current.Store(nil)
		p.logOnce("the LLM provider Secret is unusable: llm campaigns are held by the protocol interviewer", err)
		return
	}
	if old := p.current.Swap(&model{cfg: cfg.Config, llm: llm}); old == nil || old.llm != llm {
		p.Log.Info("LLM provider configured", "secret", p.Secret.String(), "model", cfg.Model)
	}
	p.seen.Store("")
}

func (p *Provider) read(ctx context.Context) (interviewer.LLMConfig, error) {
	s := &corev1.Secret{}
	if err := p.Reader.Get(ctx, p.Secret, s); err != nil {
		return interviewer.LLMConfig{}, err
	}
	cfg := interviewer.LLMConfig{Config: chatmodel.Config{BaseURL: string(s.Data[SecretBaseURL]), Model: string(s.Data[SecretModel]),
		APIKey: string(s.Data[SecretAPIKey]), HTTPClient: p.HTTPClient}}
	if cfg.BaseURL == "" || cfg.Model == "" {
		return cfg, fmt.Errorf("%w: %s needs the keys %s and %s", errBadSecret, p.Secret, SecretBaseURL, SecretModel)
	}
	return cfg, nil
}

// logOnce logs a configuration problem when it differs from the last one logged.
func (p *Provider) logOnce(msg string, err error) {
	key := msg
	if err != nil {
		key += err.Error()
	}
	if last, _ := p.seen.Load().(string); last == key {
		return
	}
	p.seen.Store(key)
	if err != nil {
		p.Log.Error(err, msg, "secret", p.Secret.String())
		return
	}
	p.Log.Info(msg, "secret", p.Secret.String())
}
