package session

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// jwksServer publishes a JWK Set that tests change while a Verifier caches it. The JWKs are
// encoded here by hand, independently of the library that decodes them.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32 // JWKS fetches served

	mu   sync.Mutex
	keys map[string]map[string]string // kid -> JWK members
}

func newJWKSServer(t *testing.T) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: map[string]map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(w http.ResponseWriter, _ *http.Request) {
	s.hits.Add(1)
	s.mu.Lock()
	set := struct {
		Keys []map[string]string `json:"keys"`
	}{Keys: []map[string]string{}}
	for _, k := range s.keys {
		set.Keys = append(set.Keys, k)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

func (s *jwksServer) publish(t *testing.T, kid string, pub crypto.PublicKey) {
	t.Helper()
	jwk := toJWK(t, pub)
	jwk["kid"], jwk["use"] = kid, "sig"
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[kid] = jwk
}

func (s *jwksServer) remove(kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, kid)
}

func toJWK(t *testing.T, pub crypto.PublicKey) map[string]string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		return map[string]string{"kty": "RSA", "alg": "RS256", "n": enc(k.N.Bytes()), "e": enc(e)}
	case *ecdsa.PublicKey:
		point, err := k.ECDH() // uncompressed: 0x04 || X || Y
		if err != nil {
			t.Fatal(err)
		}
		b := point.Bytes()
		return map[string]string{"kty": "EC", "alg": "ES256", "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "alg": "EdDSA", "crv": "Ed25519", "x": enc(k)}
	}
	t.Fatalf("no JWK encoding for %T", pub)
	return nil
}

// testKeys are one key pair of each asymmetric kind.
type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, d, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{rsa: r, ec: e, ed: d}
}

// jwksVerifier is a Verifier of srv's keys, plus the secret when withSecret.
func jwksVerifier(t *testing.T, srv *jwksServer, withSecret bool, edit func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{JWKSURL: srv.URL, HTTPClient: srv.Client(), Now: fixedNow, Logger: quietLogger()}
	if withSecret {
		cfg.Secret = []byte(testSecret)
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
