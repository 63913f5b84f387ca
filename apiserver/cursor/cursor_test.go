package cursor

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

var codec = NewCodec([]byte("test-key-0123456789"))

func TestRoundTripAndShape(t *testing.T) {
	p := Position{SortBy: "created_at", Value: "2026-11-26T17:00:00.123Z", ID: "0193-abc"}
	b := Binding("GET /campaigns", "desc", map[string]string{"status": "active", "search": ""})
	tok := codec.Encode(p, b)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(raw), `{"created_at":`) {
		t.Fatalf("cursor %q decodes to %q (%v)", tok, raw, err)
	}
	got, err := codec.Decode(tok, "created_at", b)
	if err != nil || got != p {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
}

func TestRefusesTamperingAndOtherQueries(t *testing.T) {
	p := Position{SortBy: "title", Value: "Onboarding", ID: "id-1"}
	b := Binding("GET /campaigns", "asc", map[string]string{"status": "active"})
	tok := codec.Encode(p, b)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(mustDecode(t, tok), "Onboarding", "Zzz", 1)))
	for name, try := range map[string]func() error{
		"other sort": func() error { _, err := codec.Decode(tok, "created_at", b); return err },
		"other order": func() error {
			_, err := codec.Decode(tok, "title", Binding("GET /campaigns", "desc", map[string]string{"status": "active"}))
			return err
		},
		"other endpoint": func() error {
			_, err := codec.Decode(tok, "title", Binding("GET /teams", "asc", map[string]string{"status": "active"}))
			return err
		},
		"other filter": func() error {
			_, err := codec.Decode(tok, "title", Binding("GET /campaigns", "asc", map[string]string{"status": "paused"}))
			return err
		},
		"other key":    func() error { _, err := NewCodec([]byte("another")).Decode(tok, "title", b); return err },
		"forged value": func() error { _, err := codec.Decode(forged, "title", b); return err },
		"garbage":      func() error { _, err := codec.Decode("!!!", "title", b); return err },
		"empty":        func() error { _, err := codec.Decode("", "title", b); return err },
		"huge":         func() error { _, err := codec.Decode(strings.Repeat("A", 5000), "title", b); return err },
	} {
		if err := try(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestBindingIgnoresEmptyFiltersAndOrder(t *testing.T) {
	a := Binding("GET /campaigns", "desc", map[string]string{"b": "2", "a": "1", "c": ""})
	if a != Binding("GET /campaigns", "desc", map[string]string{"a": "1", "b": "2"}) || a == Binding("GET /campaigns", "asc", map[string]string{"a": "1", "b": "2"}) {
		t.Fatalf("binding %q", a)
	}
}

func mustDecode(t *testing.T, tok string) string {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func FuzzDecode(f *testing.F) {
	f.Add(codec.Encode(Position{SortBy: "created_at", Value: "v", ID: "i"}, "desc"), "created_at", "desc")
	f.Add("e30", "title", "asc")
	f.Fuzz(func(t *testing.T, tok, sortBy, binding string) {
		p, err := codec.Decode(tok, sortBy, binding)
		if err != nil {
			return
		}
		// Anything accepted must be exactly what this codec signs for that query.
		if codec.Encode(p, binding) == "" || p.SortBy != sortBy || p.ID == "" {
			t.Fatalf("accepted %q as %+v", tok, p)
		}
		if _, err := codec.Decode(codec.Encode(p, binding), sortBy, binding); err != nil {
			t.Fatalf("re-encoding %+v does not decode: %v", p, err)
		}
	})
}

// TestLongestSortKeysRoundTrip: the server accepts every cursor it issues, even for a
// 200-character title of 4-byte or escaped characters, and refuses one past maxLen.
func TestLongestSortKeysRoundTrip(t *testing.T) {
	b := Binding("GET /campaigns", "desc", map[string]string{"search": strings.Repeat("é", 200)})
	for _, r := range []string{"🎉", "\U0010ffff", "\u2028"} {
		p := Position{SortBy: "title", Value: strings.Repeat(r, 200), ID: "0193c2a4-7b1e-7cc0-9f0e-4a1b2c3d4e5f"}
		tok := codec.Encode(p, b)
		if got, err := codec.Decode(tok, "title", b); err != nil || got != p {
			t.Fatalf("a %d-character cursor of %q titles: %v", len(tok), r, err)
		}
	}
	if _, err := codec.Decode(strings.Repeat("A", maxLen+1), "title", b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a cursor past maxLen: %v", err)
	}
}
