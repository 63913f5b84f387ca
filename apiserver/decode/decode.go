// Package decode reads JSON request bodies strictly: a size limit, JSON only, no unknown
// fields, and every failure turned into the documented error naming the field at fault.
package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"qual.cx/operator/apiserver/envelope"
)

// MaxBody is the largest request body accepted: 1 MiB.
const MaxBody = 1 << 20

// JSON decodes the request body into dst, which must point to a struct. An empty body
// leaves dst as it is, so an action that takes no body accepts none.
func JSON(w http.ResponseWriter, r *http.Request, dst any) *envelope.Error {
	body, e := read(w, r)
	if e != nil {
		return e
	}
	return Bytes(body, dst)
}

// Object is JSON for a request whose body is required: an empty one is a 400, not "{}", so
// a client that lost its body on the way does not create or change anything by default.
func Object(w http.ResponseWriter, r *http.Request, dst any) *envelope.Error {
	body, e := read(w, r)
	if e != nil {
		return e
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return envelope.New(envelope.CodeInvalidJSON, "The request body is required: a JSON object")
	}
	return Bytes(body, dst)
}

// read reads the body within MaxBody and checks its Content-Type.
func read(w http.ResponseWriter, r *http.Request) ([]byte, *envelope.Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, envelope.New(envelope.CodePayloadTooLarge, "The request body is over %d bytes", MaxBody)
		}
		return nil, envelope.New(envelope.CodeInvalidJSON, "The request body could not be read")
	}
	if e := checkContentType(r.Header.Get("Content-Type"), len(body) > 0); e != nil {
		return nil, e
	}
	return body, nil
}

// Bytes decodes a JSON object strictly into dst; an empty or all-whitespace input decodes
// nothing.
func Bytes(body []byte, dst any) *envelope.Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	// Whole-body validity first: a decoder stops at its value's end, and json.Decoder.More
	// takes a stray closing bracket after it (`{"title":"x"}]`) for the end of the input, so
	// such a body would be acted on; and a broken body is INVALID_JSON whatever its members.
	if !json.Valid(body) {
		return envelope.New(envelope.CodeInvalidJSON, "The request body is not valid JSON")
	}
	if body[0] != '{' {
		return notAnObject(body)
	}
	if field, near, unknown := UnknownName(body, reflect.TypeOf(dst)); unknown {
		if near != "" {
			return envelope.Field(field, "is not a known field; names are case-sensitive: did you mean %q?", near)
		}
		return envelope.Field(field, "is not a known field")
	}
	if e := decodeStrict(body, dst); e != nil {
		return e
	}
	// A null list item would have decoded as an empty value and been refused, if at all, as
	// one: say what the client sent.
	if field, null := NullItem(body, reflect.TypeOf(dst)); null {
		return envelope.Field(field, "must not be null")
	}
	// One walk finds a name given twice and, unless the fast check clears every string, text
	// that is not text.
	switch field, found := scan(body, true, !plainText(body)); found {
	case duplicate:
		return envelope.Field(field, "appears more than once")
	case badText:
		return envelope.Field(field, "must be valid UTF-8 text without control characters (newline and tab are allowed)")
	case badName:
		return envelope.Field(field, "has a member name that is not valid UTF-8 text without control characters")
	}
	return nil
}

// decodeStrict decodes body into dst, refusing unknown fields and trailing values. An
// integer field given an integer-valued number (10.0) decodes it as the integer: decoding
// the rewritten body again sets every field the body names, so the first try's partial
// result is overwritten.
func decodeStrict(body []byte, dst any) *envelope.Error {
	err := decodeOnce(body, dst)
	if err != nil {
		if whole, ok := integralRetry(err, body); ok {
			body, err = whole, decodeOnce(whole, dst)
		}
	}
	if err != nil {
		return fromDecodeError(err, body, reflect.TypeOf(dst))
	}
	return nil
}

// decodeOnce decodes body, one valid JSON value (Bytes checked), strictly into dst.
func decodeOnce(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

func checkContentType(ct string, hasBody bool) *envelope.Error {
	if ct == "" && !hasBody {
		return nil
	}
	media, params, err := mime.ParseMediaType(ct)
	if err != nil || media != "application/json" {
		return envelope.New(envelope.CodeUnsupportedMedia, "Content-Type must be application/json")
	}
	// JSON is UTF-8 (RFC 8259); a body declared in another charset would be read wrongly.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return envelope.New(envelope.CodeUnsupportedMedia, "Content-Type must be application/json in UTF-8, not charset %s", cs)
	}
	return nil
}

// notAnObject refuses a valid JSON body that is not an object (`[]`, `null`, `"x"`): a value
// of the wrong type, VALIDATION_ERROR, with no member to name.
func notAnObject(body []byte) *envelope.Error {
	return envelope.New(envelope.CodeValidation, "The request body must be a JSON object, not %s", jsonKind(body))
}

// jsonKind names the kind of the valid JSON value body.
func jsonKind(body []byte) string {
	switch body[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// fromDecodeError maps encoding/json's errors to the documented ones. A type error names
// the field with its list indexes when the document shows where (`questions[2]`).
func fromDecodeError(err error, body []byte, t reflect.Type) *envelope.Error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return notAnObject(body)
		}
		if exact, ok := MismatchPath(body, t); ok && withoutIndexes(exact) == field {
			field = exact
		}
		return envelope.Field(field, "must be %s", describe(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return envelope.Field(field, "is not a known field")
	}
	return envelope.New(envelope.CodeInvalidJSON, "The request body is not valid JSON")
}

// describe names a Go kind the way a JSON client thinks of it.
func describe(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "of another type"
}

// withoutIndexes is a field path with its list indexes cut: `a[1].b[0]` is `a.b`.
func withoutIndexes(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] == '[' {
			if j := strings.IndexByte(path[i:], ']'); j > 0 {
				i += j
				continue
			}
		}
		b.WriteByte(path[i])
	}
	return b.String()
}
