package session

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testSecret is the Supabase local-development default, 52 bytes.
const testSecret = "super-secret-jwt-token-with-at-least-32-characters-long"

// testNow is the fixed clock every test verifier uses.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// quietLogger drops the JWKS refresh warnings tests provoke on purpose.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// validClaims is a Supabase-shaped payload valid at testNow.
func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub":          "6f1c2a4e-0000-4000-8000-000000000001",
		"email":        "ada@example.com",
		"role":         "authenticated",
		"aud":          "authenticated",
		"app_metadata": map[string]any{"provider": "email", "role": "platform_admin"},
		"iat":          testNow.Add(-time.Minute).Unix(),
		"exp":          testNow.Add(time.Hour).Unix(),
	}
}

// with returns validClaims changed by edit; a nil value deletes the claim.
func with(edit map[string]any) jwt.MapClaims {
	c := validClaims()
	for k, v := range edit {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// sign signs claims with method and key, setting kid when not empty.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

func hs256(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", claims)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// unsigned builds "header.payload." by hand: the shape of an alg=none token.
func unsigned(t testing.TB, header string, claims jwt.MapClaims) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return b64(header) + "." + b64(string(payload)) + "."
}
