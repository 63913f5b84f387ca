// Package keys mints and recognises Qual API keys and participant tokens. Each is its prefix,
// 30 random base62 characters (178 bits) and a 6-character base62 CRC-32 checksum, so a
// secret scanner can tell a real one from a lookalike offline. Only their SHA-256 is ever
// stored.
package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"unsafe"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	bodyLen     = 30
	checksumLen = 6
	// DisplayPrefixLen is how many leading characters of a key are shown to tell keys apart.
	DisplayPrefixLen = 12
	// HashRefPrefix starts every stored key digest.
	HashRefPrefix = "sha256:"
)

// prefixes maps each key type to the prefix of its tokens.
var prefixes = map[qualv1alpha1.APIKeyType]string{
	qualv1alpha1.KeySecret: "qual_sk_",
	qualv1alpha1.KeyPublic: "qual_pk_",
	qualv1alpha1.KeyScoped: "qual_scope_",
}

// ParticipantPrefix starts every participant token: the credential of one interview's
// participant (see MintParticipant). It is no API key type, so Parse refuses it and a
// participant token sent as a bearer token authenticates nothing.
const ParticipantPrefix = "qual_pt_"

// ErrMalformed is returned by Parse for a token that is not a well-formed Qual key.
var ErrMalformed = errors.New("keys: not a well-formed Qual API key")

// Key is a key's plaintext and what may be stored about it.
type Key struct {
	// Plaintext is the whole key; it is shown once and never stored.
	Plaintext string
	// HashRef is "sha256:" and the hex SHA-256 of the plaintext.
	HashRef string
	// Prefix is the first DisplayPrefixLen characters.
	Prefix string
	// LastFour is the last four characters.
	LastFour string
}

// Mint returns a new random key of the given type.
func Mint(t qualv1alpha1.APIKeyType) (Key, error) {
	prefix, ok := prefixes[t]
	if !ok {
		return Key{}, fmt.Errorf("keys: unknown key type %q", t)
	}
	token, err := mint(prefix)
	if err != nil {
		return Key{}, err
	}
	return Describe(token), nil
}

// MintParticipant returns a new participant token: it lets whoever holds it (the participant's
// browser) read and answer one interview, so it is as random as a key, and shaped like one so
// that secret scanners find it.
func MintParticipant() (string, error) {
	return mint(ParticipantPrefix)
}

// IsParticipant reports whether token is shaped as MintParticipant makes them, checksum
// included, so a mistyped or made-up one is refused before any lookup.
func IsParticipant(token string) bool {
	return wellFormed(token, ParticipantPrefix)
}

// mint returns prefix, a random body and its checksum.
func mint(prefix string) (string, error) {
	body, err := randomBase62(bodyLen)
	if err != nil {
		return "", fmt.Errorf("keys: mint: %w", err)
	}
	sum := checksumOf(prefix, body)
	return prefix + body + string(sum[:]), nil
}

// Describe returns what may be stored about a plaintext key.
func Describe(plaintext string) Key {
	return Key{
		Plaintext: plaintext,
		HashRef:   HashRef(plaintext),
		Prefix:    plaintext[:min(DisplayPrefixLen, len(plaintext))],
		LastFour:  plaintext[max(0, len(plaintext)-4):],
	}
}

// HashRef returns "sha256:" and the hex SHA-256 of a token.
func HashRef(token string) string {
	sum := Digest(token)
	return HashRefPrefix + hex.EncodeToString(sum[:])
}

// Digest is the SHA-256 of a token. It runs on every request, so it reads the string in
// place instead of copying it.
func Digest(token string) [sha256.Size]byte {
	return sha256.Sum256(bytesOf(token))
}

// bytesOf views a string as bytes without a copy; callers only read them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// Parse checks a token's shape and checksum and returns its key type. It touches no
// storage, so a request with a mistyped or made-up key is refused before any lookup.
func Parse(token string) (qualv1alpha1.APIKeyType, error) {
	for t, prefix := range prefixes {
		if strings.HasPrefix(token, prefix) && wellFormed(token, prefix) {
			return t, nil
		}
	}
	return "", ErrMalformed
}

// wellFormed reports whether token is prefix, a base62 body and the body's checksum.
func wellFormed(token, prefix string) bool {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || len(rest) != bodyLen+checksumLen {
		return false
	}
	body, sum := rest[:bodyLen], rest[bodyLen:]
	want := checksumOf(prefix, body)
	return isBase62(body) && string(want[:]) == sum
}

// checksumOf is the CRC-32 (IEEE) of prefix+body in fixed-width base62, computed without
// allocating: Parse runs on every request.
func checksumOf(prefix, body string) [checksumLen]byte {
	n := crc32.Update(crc32.ChecksumIEEE(bytesOf(prefix)), crc32.IEEETable, bytesOf(body))
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return out
}

// randomBase62 draws n uniform base62 characters, rejecting bytes that would bias the draw.
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < 248 && len(out) < n { // 248 = 4*62: the largest multiple of 62 in a byte
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out), nil
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}
