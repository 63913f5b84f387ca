// Package signing makes webhook signing secrets and signs deliveries the Standard Webhooks
// way, so receivers can verify them with that scheme's libraries in any language.
package signing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// ErrBadSecret is returned for a secret that is not `whsec_` plus base64.
var ErrBadSecret = errors.New("signing: secret must be whsec_ followed by base64")

// NewSecret returns `whsec_` plus the base64 of 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("signing: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Sign returns the `v1,<base64>` signature of a delivery: HMAC-SHA256 keyed with the
// secret's bytes over "<id>.<timestamp>.<body>".
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify reports whether any of the space-separated signatures in header is the secret's
// signature of the delivery. During a rotation the header carries one per live secret.
func Verify(secret, id string, timestamp int64, body []byte, header string) (bool, error) {
	want, err := Sign(secret, id, timestamp, body)
	if err != nil {
		return false, err
	}
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true, nil
		}
	}
	return false, nil
}

func decodeSecret(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}
