package session

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newHS256(t testing.TB) *Verifier {
	t.Helper()
	v, err := NewVerifier(t.Context(), Config{Secret: []byte(testSecret), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyValidHS256(t *testing.T) {
	got, err := newHS256(t).Verify(t.Context(), hs256(t, with(map[string]any{"is_anonymous": true})))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{
		Subject:         "6f1c2a4e-0000-4000-8000-000000000001",
		Email:           "ada@example.com",
		Role:            "authenticated",
		AppMetadataRole: "platform_admin",
		Anonymous:       true,
		ExpiresAt:       testNow.Add(time.Hour),
	}
	if got != want {
		t.Fatalf("claims = %+v, want %+v", got, want)
	}
}

func TestVerifyHS256(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte(testSecret)
	hdr := func(alg string) string { return `{"alg":"` + alg + `","typ":"JWT"}` }
	tests := []struct {
		name  string
		token func(t *testing.T) string
		cause error // nil: the token is valid
	}{
		{"exp within leeway", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"exp": testNow.Add(-10 * time.Second).Unix()}))
		}, nil},
		{"expired", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"exp": testNow.Add(-time.Minute).Unix()}))
		}, jwt.ErrTokenExpired},
		{"exp missing", func(t *testing.T) string { return hs256(t, with(map[string]any{"exp": nil})) },
			jwt.ErrTokenRequiredClaimMissing},
		{"exp not a number", func(t *testing.T) string { return hs256(t, with(map[string]any{"exp": "tomorrow"})) },
			jwt.ErrTokenMalformed},
		// A number written as a string is no NumericDate either (RFC 7519), though jwt reads it.
		{"exp a numeric string", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"exp": fmt.Sprint(testNow.Add(time.Hour).Unix())}))
		}, errStringTime},
		{"nbf a numeric string", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"nbf": fmt.Sprint(testNow.Add(-time.Hour).Unix())}))
		}, errStringTime},
		{"iat within leeway", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"iat": testNow.Add(10 * time.Second).Unix()}))
		}, nil},
		{"iat future", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"iat": testNow.Add(24 * time.Hour).Unix()}))
		}, jwt.ErrTokenUsedBeforeIssued},
		{"nbf past", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"nbf": testNow.Add(-time.Minute).Unix()}))
		}, nil},
		{"nbf future", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"nbf": testNow.Add(5 * time.Minute).Unix()}))
		}, jwt.ErrTokenNotValidYet},
		{"wrong secret", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 40)), "", validClaims())
		}, jwt.ErrTokenSignatureInvalid},
		{"alg none", func(t *testing.T) string { return unsigned(t, hdr("none"), validClaims()) },
			jwt.ErrTokenSignatureInvalid},
		{"alg None", func(t *testing.T) string { return unsigned(t, hdr("None"), validClaims()) },
			jwt.ErrTokenUnverifiable},
		{"HS384", func(t *testing.T) string { return sign(t, jwt.SigningMethodHS384, secret, "", validClaims()) },
			jwt.ErrTokenSignatureInvalid},
		{"HS512", func(t *testing.T) string { return sign(t, jwt.SigningMethodHS512, secret, "", validClaims()) },
			jwt.ErrTokenSignatureInvalid},
		{"RS256 without JWKS", func(t *testing.T) string {
			return sign(t, jwt.SigningMethodRS256, rsaKey, "", validClaims())
		}, jwt.ErrTokenSignatureInvalid},
		{"RS256 header, HMAC signature", func(t *testing.T) string { return relabel(t, hs256(t, validClaims()), "RS256") },
			jwt.ErrTokenSignatureInvalid},
		{"tampered payload", func(t *testing.T) string {
			good := strings.Split(hs256(t, validClaims()), ".")
			evil := strings.Split(hs256(t, with(map[string]any{"sub": "someone-else"})), ".")
			return good[0] + "." + evil[1] + "." + good[2]
		}, jwt.ErrTokenSignatureInvalid},
		{"sub missing", func(t *testing.T) string { return hs256(t, with(map[string]any{"sub": nil})) }, errNoSubject},
		{"Supabase anon key", func(t *testing.T) string { // public, same secret, no sub
			return hs256(t, jwt.MapClaims{"iss": "supabase", "ref": "abc", "role": "anon",
				"iat": testNow.Add(-time.Hour).Unix(), "exp": testNow.Add(24 * time.Hour).Unix()})
		}, errNoSubject},
		{"sub empty", func(t *testing.T) string { return hs256(t, with(map[string]any{"sub": ""})) }, errNoSubject},
		{"sub not a string", func(t *testing.T) string { return hs256(t, with(map[string]any{"sub": 42})) },
			jwt.ErrTokenMalformed},
		{"email not a string", func(t *testing.T) string { return hs256(t, with(map[string]any{"email": []int{1}})) },
			jwt.ErrTokenMalformed},
		{"aud absent", func(t *testing.T) string { return hs256(t, with(map[string]any{"aud": nil})) }, nil},
		{"aud list", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"aud": []string{"authenticated", "x"}}))
		}, nil},
		{"aud other", func(t *testing.T) string { return hs256(t, with(map[string]any{"aud": "other"})) }, errBadAudience},
		{"aud other list", func(t *testing.T) string {
			return hs256(t, with(map[string]any{"aud": []string{"other", "x"}}))
		}, errBadAudience},
		{"aud empty string", func(t *testing.T) string { return hs256(t, with(map[string]any{"aud": ""})) },
			errBadAudience},
		{"aud number", func(t *testing.T) string { return hs256(t, with(map[string]any{"aud": 7})) },
			jwt.ErrTokenMalformed},
		{"empty", func(*testing.T) string { return "" }, jwt.ErrTokenMalformed},
		{"one segment", func(*testing.T) string { return "abc" }, jwt.ErrTokenMalformed},
		{"two segments", func(*testing.T) string { return "abc.def" }, jwt.ErrTokenMalformed},
		{"four segments", func(t *testing.T) string { return hs256(t, validClaims()) + ".x" }, jwt.ErrTokenMalformed},
		{"bad base64", func(*testing.T) string { return "!!!.@@@.###" }, jwt.ErrTokenMalformed},
		{"bad header JSON", func(*testing.T) string { return b64("{not json") + "." + b64("{}") + ".sig" },
			jwt.ErrTokenMalformed},
		{"bad payload JSON", func(t *testing.T) string { return resign(t, b64(hdr("HS256"))+"."+b64(`{"sub":`)) },
			jwt.ErrTokenMalformed},
		{"payload not an object", func(t *testing.T) string { return resign(t, b64(hdr("HS256"))+"."+b64(`[1]`)) },
			jwt.ErrTokenMalformed},
		{"non-canonical signature base64", func(t *testing.T) string { return flipLastBit(hs256(t, validClaims())) },
			jwt.ErrTokenMalformed},
		{"bad signature base64", func(t *testing.T) string { return hs256(t, validClaims()) + "!" },
			jwt.ErrTokenMalformed},
		{"tampered signature", func(t *testing.T) string { tok := hs256(t, validClaims()); return tok[:len(tok)-3] + "AAA" },
			jwt.ErrTokenSignatureInvalid},
	}
	v := newHS256(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tc.token(t))
			checkResult(t, got, err, tc.cause)
		})
	}
}

// checkResult asserts success when cause is nil, else a zero result and an error that
// wraps both ErrInvalidToken and cause.
func checkResult(t *testing.T, got Claims, err, cause error) {
	t.Helper()
	if cause == nil {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, cause) {
		t.Fatalf("err = %v, want ErrInvalidToken and %v", err, cause)
	}
	t.Log(err) // the message is what operators see in logs
	if got != (Claims{}) {
		t.Fatalf("claims leaked on failure: %+v", got)
	}
}

// flipLastBit changes the unused low bit of the signature's last base64url character, which
// lenient decoders ignore.
func flipLastBit(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[i^1])
}

// relabel swaps the alg in token's header, keeping payload and signature.
func relabel(t *testing.T, token, alg string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	parts[0] = b64(`{"alg":"` + alg + `","typ":"JWT"}`)
	return strings.Join(parts, ".")
}

// resign appends a valid HS256 signature over signing, so only its content can be at fault.
func resign(t *testing.T, signing string) string {
	t.Helper()
	sig, err := jwt.SigningMethodHS256.Sign(signing, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + b64(string(sig))
}

func TestVerifyCustomAudience(t *testing.T) {
	v, err := NewVerifier(t.Context(), Config{Secret: []byte(testSecret), Audience: "qual", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), hs256(t, with(map[string]any{"aud": "qual"}))); err != nil {
		t.Fatalf("aud qual: %v", err)
	}
	_, err = v.Verify(t.Context(), hs256(t, validClaims())) // aud "authenticated"
	checkResult(t, Claims{}, err, errBadAudience)
}

func TestVerifyLeewayConfig(t *testing.T) {
	v, err := NewVerifier(t.Context(), Config{Secret: []byte(testSecret), Leeway: time.Second, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), hs256(t, with(map[string]any{"exp": testNow.Add(-10 * time.Second).Unix()})))
	checkResult(t, Claims{}, err, jwt.ErrTokenExpired)
}

func TestSecretIsCopied(t *testing.T) {
	secret := []byte(testSecret)
	v, err := NewVerifier(t.Context(), Config{Secret: secret, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	secret[0] ^= 0xff
	if _, err := v.Verify(t.Context(), hs256(t, validClaims())); err != nil {
		t.Fatalf("caller's slice changed the key: %v", err)
	}
}

func TestHasRole(t *testing.T) {
	c := Claims{Role: "authenticated", AppMetadataRole: "platform_admin"}
	for role, want := range map[string]bool{"platform_admin": true, "authenticated": true, "": false, "x": false} {
		if got := c.HasRole(role); got != want {
			t.Errorf("HasRole(%q) = %v, want %v", role, got, want)
		}
	}
	if (Claims{}).HasRole("") {
		t.Error("empty role matched empty claims")
	}
}

func TestNewVerifierConfig(t *testing.T) {
	tests := map[string]Config{
		"nothing":         {},
		"short secret":    {Secret: []byte("too-short")},
		"relative URL":    {JWKSURL: "/jwks.json"},
		"ftp URL":         {JWKSURL: "ftp://example.com/jwks.json"},
		"bad URL":         {JWKSURL: "http://[::1"},
		"negative leeway": {Secret: []byte(testSecret), Leeway: -time.Second},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := NewVerifier(t.Context(), cfg); err == nil {
				t.Fatal("want a config error")
			}
		})
	}
}
