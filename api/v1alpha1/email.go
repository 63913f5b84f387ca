package v1alpha1

import "strings"

// EmailKey is how e-mail addresses compare: letter case folded in ASCII only, as the Team
// schema's uniqueness rule (lowerAscii) does. Unicode folding would make a different mailbox
// match: the Kelvin sign (U+212A) folds to "k", so "\u212aate@x" would claim kate@x's entry.
func EmailKey(email string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, email)
}

// SameEmail says a and b are one address under EmailKey.
func SameEmail(a, b string) bool { return EmailKey(a) == EmailKey(b) }
