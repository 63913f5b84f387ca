// Package authn authenticates REST requests: API keys through the directory's hash index,
// session JWTs through the session verifier. Every failure is the same 401.
package authn

import "strings"

// maxTokenLen bounds the credentials considered: a real key is 44 bytes, a session JWT a few
// hundred; anything far bigger is refused before hashing or parsing.
const maxTokenLen = 8192

// ParseBearer returns the token of an `Authorization: Bearer <token>` header value. The
// scheme is case-insensitive; the token is one non-empty run of visible characters.
func ParseBearer(header string) (string, bool) {
	const scheme = "bearer "
	if len(header) <= len(scheme) || len(header) > len(scheme)+maxTokenLen || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	token := strings.TrimLeft(header[len(scheme):], " ")
	if token == "" {
		return "", false
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c >= 0x7f {
			return "", false
		}
	}
	return token, true
}
