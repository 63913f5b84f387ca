package session

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Defaults applied by NewVerifier to zero Config fields.
const (
	// DefaultAudience is the aud Supabase puts in user session tokens.
	DefaultAudience = "authenticated"
	// DefaultLeeway absorbs clock skew between the issuer and this server.
	DefaultLeeway = 30 * time.Second
	// DefaultRefreshInterval is how often the JWKS is re-fetched in the background.
	DefaultRefreshInterval = 15 * time.Minute
)

// minSecretLen is the HS256 key floor of RFC 7518 section 3.2 (key at least as long as the hash).
const minSecretLen = 32

// Config says which tokens a Verifier accepts.
type Config struct {
	// Secret is the HS256 key, used as raw bytes; empty disables HS256.
	Secret []byte
	// JWKSURL is an http(s) JWK Set of asymmetric keys (RS256, ES256, EdDSA); empty disables them.
	JWKSURL string
	// RefreshInterval is the background JWKS refresh period; zero means DefaultRefreshInterval.
	RefreshInterval time.Duration
	// Audience must be in aud when a token carries aud; empty means DefaultAudience.
	Audience string
	// Leeway is the clock skew allowed on exp and nbf; zero means DefaultLeeway.
	Leeway time.Duration
	// HTTPClient fetches the JWKS; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives background JWKS refresh failures; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// withDefaults validates cfg and fills its zero fields.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Secret) == 0 && cfg.JWKSURL == "" {
		return cfg, errors.New("session: config needs a Secret or a JWKSURL")
	}
	if len(cfg.Secret) > 0 && len(cfg.Secret) < minSecretLen {
		return cfg, fmt.Errorf("session: secret is %d bytes, HS256 needs at least %d", len(cfg.Secret), minSecretLen)
	}
	if cfg.JWKSURL != "" {
		if err := checkURL(cfg.JWKSURL); err != nil {
			return cfg, err
		}
	}
	if cfg.Leeway < 0 || cfg.RefreshInterval < 0 {
		return cfg, errors.New("session: Leeway and RefreshInterval must not be negative")
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...) // the caller may reuse its slice
	cfg.Audience = orDefault(cfg.Audience, DefaultAudience)
	cfg.Leeway = orDefault(cfg.Leeway, DefaultLeeway)
	cfg.RefreshInterval = orDefault(cfg.RefreshInterval, DefaultRefreshInterval)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("session: JWKS URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("session: JWKS URL %q is not an absolute http(s) URL", raw)
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
