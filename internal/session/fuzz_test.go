package session

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify checks that Verify never panics and accepts only tokens that jwt itself,
// configured independently, finds validly signed by the secret and well-formed.
func FuzzVerify(f *testing.F) {
	valid := hs256(f, validClaims())
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid,
		hs256(f, with(map[string]any{"aud": []string{"authenticated", "x"}, "nbf": testNow.Unix()})),
		hs256(f, with(map[string]any{"exp": nil})),
		hs256(f, with(map[string]any{"sub": nil})),
		sign(f, jwt.SigningMethodHS512, []byte(testSecret), "", validClaims()),
		unsigned(f, `{"alg":"none","typ":"JWT"}`, validClaims()),
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		"", ".", "..", "a.b.c", "!!!.@@@.###",
	} {
		f.Add(seed)
	}
	v, err := NewVerifier(f.Context(), Config{Secret: []byte(testSecret), Now: fixedNow})
	if err != nil {
		f.Fatal(err)
	}
	independent := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(fixedNow),
		jwt.WithLeeway(DefaultLeeway))
	secret := func(*jwt.Token) (any, error) { return []byte(testSecret), nil }
	f.Fuzz(func(t *testing.T, token string) {
		got, err := v.Verify(t.Context(), token)
		if err != nil {
			return
		}
		if _, err := independent.Parse(token, secret); err != nil {
			t.Fatalf("accepted a token jwt rejects: %v", err)
		}
		if got.Subject == "" || got.ExpiresAt.IsZero() || !testNow.Before(got.ExpiresAt.Add(DefaultLeeway+time.Second)) {
			t.Fatalf("accepted bad claims: %+v", got)
		}
	})
}
