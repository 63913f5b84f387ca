package session

import "testing"

// BenchmarkVerifyHS256 is the per-request cost of a session token.
func BenchmarkVerifyHS256(b *testing.B) {
	v, err := NewVerifier(b.Context(), Config{Secret: []byte(testSecret), Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	token := hs256(b, validClaims())
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}
