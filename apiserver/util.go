package apiserver

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/types"

	"qual.cx/operator/apiserver/decode"
)

// ptrUID is the UID precondition of a write to obj: it never touches a namesake created since.
func ptrUID(obj interface{ GetUID() types.UID }) *types.UID {
	uid := obj.GetUID()
	return &uid
}

// replaceSegment is path with every segment that is old written as new. A UUID needs no
// escaping, so the escaped form of a path (URL.RawPath) is rewritten the same way.
func replaceSegment(path, old, new string) string {
	if path == "" {
		return path
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if seg == old {
			segs[i] = new
		}
	}
	return strings.Join(segs, "/")
}

// isUUID reports whether s is an id as the API writes them: a UUID in its canonical form.
func isUUID(s string) bool {
	return len(s) == 36 && uuid.Validate(s) == nil
}

// canonicalID is s as the API writes ids when s is a UUID in any letter case, else s
// unchanged: RFC 9562 has UUIDs read case-insensitively, and a client that stores them in
// upper case (as some databases print them) names the same row.
func canonicalID(s string) string {
	if isUUID(s) {
		return strings.ToLower(s)
	}
	return s
}

// isEmail reports whether s reads as an e-mail address as the Team CRD's pattern does, and
// the OpenAPI document's Email schema: a local part, one "@", a domain, no space, control or
// format character, at most maxEmail characters (counted as the CRD's and the document's maxLength
// count them, so a non-ASCII address they take is not refused for its bytes). Letters of
// any script are taken: an internationalized address (RFC 6531) is as real as a session's
// e-mail claim that carries it. Deliverability is the mail system's business, not the API's.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && utf8.RuneCountInString(s) <= maxEmail && emailPart(local) && emailPart(domain)
}

// emailPart is one side of an address: not empty, and no "@", space of any kind (Z),
// control (Cc) or format character (Cf: a zero-width space or a direction override would
// make a list show another address than the one that matches), as the CRD's
// `[^@\p{Cc}\p{Cf}\p{Z}]+` reads it.
func emailPart(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r == '@' || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z)
	})
}

// unseen says an optional name or id, already trimmed, was given yet shows nothing. White
// space alone trims to the empty value, which means none (a key then gets its default name),
// but zero-width and other format characters do not trim, and would list as a blank row: the
// not-blank rule of titles (decode.Blank) holds for such a value once it is given.
func unseen(trimmed string) bool { return trimmed != "" && decode.Blank(trimmed) }

// unseenMessage is the validation message for a value that is unseen.
const unseenMessage = "must hold a character that shows, or be left out"
