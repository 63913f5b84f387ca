package keys

import (
	"strings"
	"testing"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

func TestMintAndParseEveryType(t *testing.T) {
	for typ, prefix := range prefixes {
		k, err := Mint(typ)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.Plaintext, prefix) || len(k.Plaintext) != len(prefix)+bodyLen+checksumLen {
			t.Fatalf("%s: malformed key %q", typ, k.Plaintext)
		}
		got, err := Parse(k.Plaintext)
		if err != nil || got != typ {
			t.Fatalf("Parse(%q) = %q, %v; want %q", k.Plaintext, got, err, typ)
		}
		if k.Prefix != k.Plaintext[:12] || k.LastFour != k.Plaintext[len(k.Plaintext)-4:] {
			t.Fatalf("display parts %q/%q do not match %q", k.Prefix, k.LastFour, k.Plaintext)
		}
		if k.HashRef != HashRef(k.Plaintext) || len(k.HashRef) != 71 {
			t.Fatalf("hash ref %q", k.HashRef)
		}
	}
}

func TestMintIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k, err := Mint(qualv1alpha1.KeySecret)
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.Plaintext] {
			t.Fatalf("duplicate key %q", k.Plaintext)
		}
		seen[k.Plaintext] = true
	}
}

func TestParseRejectsTamperedKeys(t *testing.T) {
	k, err := Mint(qualv1alpha1.KeyScoped)
	if err != nil {
		t.Fatal(err)
	}
	flip := []byte(k.Plaintext)
	i := len("qual_scope_") + 3
	flip[i] = map[bool]byte{true: 'b', false: 'a'}[flip[i] == 'a']
	for _, bad := range []string{
		"", "qual_sk_", string(flip), k.Plaintext + "x", k.Plaintext[:len(k.Plaintext)-1],
		strings.Replace(k.Plaintext, "qual_scope_", "qual_sk_", 1), "Bearer " + k.Plaintext,
		"qual_sk_" + strings.Repeat("!", bodyLen+checksumLen),
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted a malformed key", bad)
		}
	}
}

// A participant token is shaped like a key, so secret scanners find it, but is no key: Parse
// refuses it, so sent as a bearer token it authenticates nothing.
func TestParticipantTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, err := MintParticipant()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, ParticipantPrefix) || len(tok) != len(ParticipantPrefix)+bodyLen+checksumLen || !IsParticipant(tok) {
			t.Fatalf("malformed participant token %q", tok)
		}
		if seen[tok] {
			t.Fatalf("duplicate participant token %q", tok)
		}
		seen[tok] = true
		if _, err := Parse(tok); err == nil {
			t.Fatalf("Parse took the participant token %q for an API key", tok)
		}
	}
	tok, err := MintParticipant()
	if err != nil {
		t.Fatal(err)
	}
	k, err := Mint(qualv1alpha1.KeyPublic)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", ParticipantPrefix, tok + "x", tok[:len(tok)-1], mistype(tok),
		strings.Replace(tok, ParticipantPrefix, "qual_pk_", 1), k.Plaintext, " " + tok,
		ParticipantPrefix + strings.Repeat("!", bodyLen+checksumLen)} {
		if IsParticipant(bad) {
			t.Errorf("IsParticipant(%q) accepted a malformed token", bad)
		}
	}
}

// mistype changes one character of a token's body, keeping it base62.
func mistype(token string) string {
	b := []byte(token)
	i := len(ParticipantPrefix) + 3
	b[i] = map[bool]byte{true: 'b', false: 'a'}[b[i] == 'a']
	return string(b)
}

func TestMintRejectsUnknownType(t *testing.T) {
	if _, err := Mint("root"); err == nil {
		t.Fatal("want an error for an unknown type")
	}
}

func FuzzParse(f *testing.F) {
	k, _ := Mint(qualv1alpha1.KeyPublic)
	for _, s := range []string{k.Plaintext, "", "qual_pk_", "qual_sk_abc", "qual_scope_" + strings.Repeat("Z", 36)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := Parse(s)
		if err != nil {
			return
		}
		// Whatever parses must carry its type's prefix, a base62 body and a matching checksum.
		prefix := prefixes[typ]
		sum := checksumOf(prefix, s[len(prefix):len(s)-checksumLen])
		if !strings.HasPrefix(s, prefix) || string(sum[:]) != s[len(s)-checksumLen:] {
			t.Fatalf("Parse accepted %q as %s", s, typ)
		}
		_ = Describe(s)
	})
}
