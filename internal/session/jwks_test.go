package session

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestJWKSKeyKinds(t *testing.T) {
	keys := newTestKeys(t)
	srv := newJWKSServer(t)
	srv.publish(t, "rsa-1", &keys.rsa.PublicKey)
	srv.publish(t, "ec-1", &keys.ec.PublicKey)
	srv.publish(t, "ed-1", keys.ed.Public())
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
		cause error
	}{
		{"RS256", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa-1", validClaims()), nil},
		{"ES256", sign(t, jwt.SigningMethodES256, keys.ec, "ec-1", validClaims()), nil},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, keys.ed, "ed-1", validClaims()), nil},
		{"no kid", sign(t, jwt.SigningMethodES256, keys.ec, "", validClaims()), nil},
		{"RS256 expired", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa-1",
			with(map[string]any{"exp": testNow.Add(-time.Hour).Unix()})), jwt.ErrTokenExpired},
		{"RS256 other key", sign(t, jwt.SigningMethodRS256, otherRSA, "rsa-1", validClaims()),
			jwt.ErrTokenSignatureInvalid},
		{"ES256 other key", sign(t, jwt.SigningMethodES256, otherEC, "ec-1", validClaims()),
			jwt.ErrTokenSignatureInvalid},
		{"ES256 naming the RSA kid", sign(t, jwt.SigningMethodES256, keys.ec, "rsa-1", validClaims()),
			jwt.ErrTokenUnverifiable},
		{"RS384 not configured", sign(t, jwt.SigningMethodRS384, keys.rsa, "rsa-1", validClaims()),
			jwt.ErrTokenSignatureInvalid},
		{"HS256 without secret", hs256(t, validClaims()), jwt.ErrTokenSignatureInvalid},
	}
	v := jwksVerifier(t, srv, false, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tc.token)
			checkResult(t, got, err, tc.cause)
			if tc.cause == nil && got.Subject != validClaims()["sub"] {
				t.Fatalf("subject = %q", got.Subject)
			}
		})
	}
}

// TestJWKSAlgConfusion forges HS256 tokens keyed with the published RSA public key, the
// classic attack on verifiers that pick the algorithm from the token.
func TestJWKSAlgConfusion(t *testing.T) {
	keys := newTestKeys(t)
	srv := newJWKSServer(t)
	srv.publish(t, "rsa-1", &keys.rsa.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(&keys.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	forgeries := map[string][]byte{
		"DER": der,
		"PEM": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"n":   keys.rsa.N.Bytes(),
	}
	for _, withSecret := range []bool{false, true} {
		v := jwksVerifier(t, srv, withSecret, nil)
		for name, key := range forgeries {
			_, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodHS256, key, "rsa-1", validClaims()))
			if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
				t.Errorf("secret=%v, HS256 keyed with the %s public key: err = %v", withSecret, name, err)
			}
		}
		if withSecret {
			if _, err := v.Verify(t.Context(), hs256(t, validClaims())); err != nil {
				t.Errorf("HS256 beside JWKS: %v", err)
			}
		}
	}
}

func TestJWKSUnknownKIDRefreshesOnce(t *testing.T) {
	keys := newTestKeys(t)
	srv := newJWKSServer(t)
	srv.publish(t, "rsa-1", &keys.rsa.PublicKey)
	v := jwksVerifier(t, srv, false, nil)
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches after start = %d, want 1", n)
	}
	srv.publish(t, "ec-2", &keys.ec.PublicKey) // rotation: the issuer adds a key
	ecToken := sign(t, jwt.SigningMethodES256, keys.ec, "ec-2", validClaims())
	if _, err := v.Verify(t.Context(), ecToken); err != nil {
		t.Fatalf("new kid after refresh: %v", err)
	}
	if _, err := v.Verify(t.Context(), ecToken); err != nil {
		t.Fatalf("new kid, cached: %v", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (one refresh)", n)
	}

	start := time.Now()
	_, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodES256, keys.ec, "nope", validClaims()))
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unpublished kid: err = %v", err)
	}
	if n, d := srv.hits.Load(), time.Since(start); n != 2 || d > 2*time.Second {
		t.Fatalf("rate-limited miss: fetches = %d, took %v; want no fetch, no wait", n, d)
	}
}

func TestJWKSRemovedKeyStopsVerifying(t *testing.T) {
	keys := newTestKeys(t)
	srv := newJWKSServer(t)
	srv.publish(t, "rsa-1", &keys.rsa.PublicKey)
	srv.publish(t, "ec-1", &keys.ec.PublicKey)
	v := jwksVerifier(t, srv, false, func(c *Config) { c.RefreshInterval = 20 * time.Millisecond })
	token := sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa-1", validClaims())
	if _, err := v.Verify(t.Context(), token); err != nil {
		t.Fatal(err)
	}
	srv.remove("rsa-1")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err := v.Verify(t.Context(), token)
		if errors.Is(err, ErrInvalidToken) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("removed key still verifies after 5s (err = %v)", err)
		}
	}
}

func TestJWKSServerDown(t *testing.T) {
	keys := newTestKeys(t)
	token := sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa-1", validClaims())
	broken := map[string]http.HandlerFunc{
		"500":     func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusInternalServerError) },
		"garbage": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) },
		"bad key": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[{"kty":"RSA","kid":"rsa-1","n":"!!","e":"AQAB"}]}`))
		},
	}
	for name, h := range broken {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			checkDown(t, srv.URL, token)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		checkDown(t, srv.URL, token)
	})
}

func checkDown(t *testing.T, url, token string) {
	t.Helper()
	v, err := NewVerifier(t.Context(), Config{JWKSURL: url, Now: fixedNow, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("a JWKS outage must not stop startup: %v", err)
	}
	_, err = v.Verify(t.Context(), token)
	checkResult(t, Claims{}, err, jwt.ErrTokenUnverifiable)
}

func TestJWKSOutageKeepsCachedKeys(t *testing.T) {
	keys := newTestKeys(t)
	srv := newJWKSServer(t)
	srv.publish(t, "rsa-1", &keys.rsa.PublicKey)
	v := jwksVerifier(t, srv, false, func(c *Config) { c.RefreshInterval = 10 * time.Millisecond })
	srv.Close()
	time.Sleep(50 * time.Millisecond) // several failed refreshes
	if _, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa-1", validClaims())); err != nil {
		t.Fatalf("cached key lost during outage: %v", err)
	}
}

// TestVerifyConcurrent is for -race: verifications racing background refreshes.
func TestVerifyConcurrent(t *testing.T) {
	keys := newTestKeys(t)
	srv := newJWKSServer(t)
	srv.publish(t, "ec-1", &keys.ec.PublicKey)
	v := jwksVerifier(t, srv, true, func(c *Config) { c.RefreshInterval = 5 * time.Millisecond })
	tokens := []string{hs256(t, validClaims()), sign(t, jwt.SigningMethodES256, keys.ec, "ec-1", validClaims())}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(t.Context(), tokens[g%2]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
