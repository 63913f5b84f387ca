package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is what a verified session token says about its user.
type Claims struct {
	// Subject is the user id (sub); never empty.
	Subject string
	// Email is the email claim; may be empty.
	Email string
	// Role is the top-level role claim (Supabase: "authenticated").
	Role string
	// AppMetadataRole is app_metadata.role, which only the issuer's admins can set.
	AppMetadataRole string
	// Anonymous is is_anonymous: a Supabase anonymous sign-in, a real but unproven user.
	Anonymous bool
	// ExpiresAt is exp, in UTC; always set.
	ExpiresAt time.Time
}

// HasRole reports whether role is the token's role or its app_metadata.role. An empty role
// never matches, so an unset admin role in configuration cannot make everyone an admin.
func (c Claims) HasRole(role string) bool {
	return role != "" && (c.Role == role || c.AppMetadataRole == role)
}

var (
	errNoSubject   = errors.New("sub claim is missing")
	errBadAudience = errors.New("aud claim does not contain the configured audience")
)

// tokenClaims is the wire form. A struct rather than jwt.MapClaims keeps decoding cheap.
type tokenClaims struct {
	jwt.RegisteredClaims
	Email       string `json:"email"`
	Role        string `json:"role"`
	Anonymous   bool   `json:"is_anonymous"`
	AppMetadata struct {
		Role string `json:"role"`
	} `json:"app_metadata"`

	audience string // expected aud; unexported so JSON cannot set it
}

// errStringTime is a time claim written as a string.
var errStringTime = errors.New("exp, nbf and iat must be JSON numbers")

// UnmarshalJSON refuses a time claim written as a string ("exp":"9999999999"): RFC 7519 makes
// exp, nbf and iat NumericDates, JSON numbers, and jwt would read the string as one.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	if stringTimeClaim(b) {
		return errStringTime
	}
	type plain tokenClaims // the same fields, without this method
	return json.Unmarshal(b, (*plain)(c))
}

// stringTimeClaim reports whether a member named exp, nbf or iat has a string value. A quote
// inside a JSON string is escaped, so `"exp"` followed by a colon is always a member name; a
// nested one counts too, which no issuer writes as a string either. A byte scan, not a second
// decode: it runs on every session request.
func stringTimeClaim(b []byte) bool {
	for _, name := range []string{`"exp"`, `"nbf"`, `"iat"`} {
		for rest := b; ; {
			i := bytes.Index(rest, []byte(name))
			if i < 0 {
				break
			}
			rest = rest[i+len(name):]
			v := bytes.TrimLeft(rest, " \t\r\n")
			if len(v) > 0 && v[0] == ':' && bytes.HasPrefix(bytes.TrimLeft(v[1:], " \t\r\n"), []byte(`"`)) {
				return true
			}
		}
	}
	return false
}

// Validate adds the rules jwt leaves out. jwt calls it after the signature and the time
// claims are checked. jwt.WithAudience would make aud mandatory; here aud is optional
// but must contain the audience when present.
func (c *tokenClaims) Validate() error {
	if c.Subject == "" {
		return errNoSubject
	}
	if len(c.Audience) > 0 && !slices.Contains(c.Audience, c.audience) {
		return errBadAudience
	}
	return nil
}

func (c *tokenClaims) public() Claims {
	return Claims{
		Subject:         c.Subject,
		Email:           c.Email,
		Role:            c.Role,
		AppMetadataRole: c.AppMetadata.Role,
		Anonymous:       c.Anonymous,
		ExpiresAt:       c.ExpiresAt.UTC(),
	}
}
