package authn

import (
	"strings"
	"testing"
)

func TestParseBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BEARER  abc": "abc",
		"": "", "Bearer": "", "Bearer ": "", "Basic abc": "", "Bearer a b": "", "Bearerabc": "",
		"Bearer abc\x00": "", "Bearer é": "", "Bearer " + strings.Repeat("a", maxTokenLen+1): "",
	} {
		got, ok := ParseBearer(header)
		if got != want || ok != (want != "") {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q", header, got, ok, want)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer qual_sk_abc", "bearer x", "Basic y", "Bearer  ", "Bearer a\tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := ParseBearer(header)
		if !ok {
			return
		}
		if token == "" || strings.ContainsAny(token, " \t\r\n") || !strings.HasSuffix(header, token) || len(token) > maxTokenLen {
			t.Fatalf("ParseBearer(%q) accepted %q", header, token)
		}
	})
}
