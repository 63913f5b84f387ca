// Package session verifies Supabase-style session JWTs: HS256 with a shared secret and,
// optionally, asymmetric keys from a JWKS URL.
package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken is wrapped by every Verify failure. The rest of the error says what
// failed, for logs; callers should answer a uniform 401 and not echo it.
var ErrInvalidToken = errors.New("session: invalid token")

// Asymmetric algorithms accepted from the JWKS; the alg names are jwt's.
var jwksMethods = []string{"RS256", "ES256", "EdDSA"}

// Verifier checks session tokens. It is safe for concurrent use.
type Verifier struct {
	parser   *jwt.Parser
	secret   any             // []byte boxed once: returning it from a Keyfunc would box it per call
	jwks     keyfunc.Keyfunc // nil without a JWKS URL
	audience string
	hmacKey  jwt.Keyfunc // built once: the HS256-only path needs no per-call closure
}

// NewVerifier builds a Verifier from cfg. With a JWKS URL it fetches the keys once and
// then refreshes them in the background until ctx ends; an unreachable JWKS does not fail
// construction (tokens needing it fail until a fetch succeeds).
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{audience: cfg.Audience}
	v.hmacKey = v.secretKey
	var methods []string
	if len(cfg.Secret) > 0 {
		v.secret = cfg.Secret
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.JWKSURL != "" {
		if v.jwks, err = newJWKS(ctx, cfg); err != nil {
			return nil, err
		}
		methods = append(methods, jwksMethods...)
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(methods), // refuses "none" and every alg not configured
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), // a token issued in the future (past the leeway) is a forgery or a broken clock
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(), // one encoding per token: no altered-but-valid copies
	)
	return v, nil
}

// Verify checks token's signature and claims and returns its claims. Every error wraps
// ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	c := tokenClaims{audience: v.audience}
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyfunc(ctx)); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return c.public(), nil
}

// keyfunc picks the key by alg, so a key can only ever verify its own kind of token: the
// secret never meets an RS256 token and a JWKS key never meets an HS256 one.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	if v.jwks == nil {
		return v.hmacKey
	}
	return func(t *jwt.Token) (any, error) {
		if t.Method.Alg() == jwt.SigningMethodHS256.Alg() {
			return v.secretKey(t)
		}
		return v.jwks.KeyfuncCtx(ctx)(t)
	}
}

func (v *Verifier) secretKey(t *jwt.Token) (any, error) {
	if t.Method.Alg() != jwt.SigningMethodHS256.Alg() || v.secret == nil {
		return nil, fmt.Errorf("no secret for alg %s", t.Method.Alg())
	}
	return v.secret, nil
}
