// Package cursor makes the opaque, signed keyset cursors of list endpoints. A cursor is
// base64url of a JSON object that starts with the sort key, e.g.
// {"created_at":"2026-11-26T17:00:00Z","id":"…","sig":"…"}. The HMAC covers the position
// and the query it came from (endpoint, sort, order, filters), so a cursor that was tampered
// with or is replayed against another query, or another list endpoint, is refused.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
)

// maxLen bounds the cursors accepted, so a huge query parameter costs nothing to refuse. It
// is above the longest cursor the server issues: a 200-character sort key (a title or name)
// whose every character is quoted as \U0010ffff makes about 2.9 kB.
const maxLen = 4096

// ErrInvalid is returned for a cursor that is malformed, tampered with, or from another query.
var ErrInvalid = errors.New("cursor: invalid")

// Position is where a page ends: the last item's sort value and its id, the tie-breaker.
type Position struct {
	SortBy string
	Value  string
	ID     string
}

// Codec signs and checks cursors with one key.
type Codec struct {
	key []byte
}

// NewCodec returns a codec signing with key; every replica of the server must use the same.
func NewCodec(key []byte) *Codec { return &Codec{key: key} }

// Binding is the canonical form of a list query, which a cursor is bound to: its endpoint
// (e.g. "GET /campaigns", the same for every alias of the route), order and filters. Empty
// filter values are left out, so `?status=` and no status are one query.
func Binding(endpoint, order string, filters map[string]string) string {
	keys := make([]string, 0, len(filters))
	for k, v := range filters {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(strconv.Quote(endpoint))
	b.WriteString(" ")
	b.WriteString(order)
	for _, k := range keys {
		b.WriteString("&" + k + "=" + strconv.Quote(filters[k]))
	}
	return b.String()
}

// Encode returns the cursor of a position, bound to a query.
func (c *Codec) Encode(p Position, binding string) string {
	// Written by hand so the sort key comes first, as the contract shows; each string is
	// quoted as JSON quotes it (strconv.Quote writes \U escapes JSON cannot read back).
	raw := `{` + jsonString(p.SortBy) + `:` + jsonString(p.Value) +
		`,"id":` + jsonString(p.ID) + `,"sig":"` + c.sign(p, binding) + `"}`
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// Decode checks a cursor against the query it is used with and returns its position.
func (c *Codec) Decode(token, sortBy, binding string) (Position, error) {
	if len(token) == 0 || len(token) > maxLen {
		return Position{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Position{}, ErrInvalid
	}
	var fields map[string]string
	if err := json.Unmarshal(raw, &fields); err != nil || len(fields) != 3 {
		return Position{}, ErrInvalid
	}
	value, hasValue := fields[sortBy]
	id, sig := fields["id"], fields["sig"]
	p := Position{SortBy: sortBy, Value: value, ID: id}
	if !hasValue || id == "" || !hmac.Equal([]byte(sig), []byte(c.sign(p, binding))) {
		return Position{}, ErrInvalid
	}
	return p, nil
}

func (c *Codec) sign(p Position, binding string) string {
	mac := hmac.New(sha256.New, c.key)
	for _, part := range []string{p.SortBy, p.Value, p.ID, binding} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}
