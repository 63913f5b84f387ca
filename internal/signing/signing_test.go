package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestSignMatchesTheStandardWebhooksScheme(t *testing.T) {
	// Computed independently: HMAC-SHA256 keyed with the decoded secret over id.ts.body.
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := SecretPrefix + base64.StdEncoding.EncodeToString(key)
	body := []byte(`{"type":"webhook.test"}`)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("evt_1.1700000000." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))

	got, err := Sign(secret, "evt_1", 1700000000, body)
	if err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
	for header, ok := range map[string]bool{
		want: true, "v1,bogus " + want: true, "v1,bogus": false, "": false,
	} {
		if got, err := Verify(secret, "evt_1", 1700000000, body, header); err != nil || got != ok {
			t.Errorf("Verify(%q) = %v, %v; want %v", header, got, err, ok)
		}
	}
	if ok, _ := Verify(secret, "evt_1", 1700000001, body, want); ok {
		t.Error("a signature must not verify for another timestamp")
	}
}

func TestNewSecretIsRandomAndUsable(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, SecretPrefix))
	if a == b || !strings.HasPrefix(a, SecretPrefix) || len(raw) != 32 {
		t.Fatalf("bad secrets %q %q", a, b)
	}
	if _, err := Sign(a, "evt", 1, nil); err != nil {
		t.Fatal(err)
	}
}

func TestBadSecretsAreRefused(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_!!!", "sk_abc"} {
		if _, err := Sign(s, "evt", 1, nil); err == nil {
			t.Errorf("Sign accepted secret %q", s)
		}
	}
}
