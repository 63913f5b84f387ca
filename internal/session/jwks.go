package session

import (
	"context"
	"fmt"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

const (
	// unknownKIDInterval bounds refreshes triggered by tokens naming a kid not in the
	// cache; anyone can send such tokens, so they must not drive traffic to the issuer.
	unknownKIDInterval = 30 * time.Second
	// unknownKIDWait is how long a request may wait for that refresh (limiter and fetch).
	// Beyond it the request fails at once instead of queueing behind the limiter.
	unknownKIDWait = 5 * time.Second
	// fetchTimeout bounds the first and the periodic fetches.
	fetchTimeout = 10 * time.Second
)

// newJWKS starts a cached JWK Set that keyfunc refreshes every cfg.RefreshInterval and,
// rate-limited, on an unknown kid. A failed refresh keeps the previous keys.
func newJWKS(ctx context.Context, cfg Config) (keyfunc.Keyfunc, error) {
	keepGoing := true // start even if the issuer is down; refreshes catch up
	logger := cfg.Logger
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		Client:                    cfg.HTTPClient,
		HTTPTimeout:               fetchTimeout,
		NoErrorReturnFirstHTTPReq: &keepGoing,
		RateLimitWaitMax:          unknownKIDWait,
		RefreshInterval:           cfg.RefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(unknownKIDInterval), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.WarnContext(ctx, "session: JWKS refresh failed", "url", u, "error", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("session: JWKS %s: %w", cfg.JWKSURL, err)
	}
	return kf, nil
}
