// Package envelope writes the REST API's response envelope: `{"data": ...}` for success,
// `{"data": [...], "pagination": {...}}` for lists and `{"error": {...}}` for every failure,
// with the documented code of each failure.
package envelope

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Code is a documented error code.
type Code string

// The error codes of the API and the HTTP status each one goes with.
const (
	CodeValidation          Code = "VALIDATION_ERROR"
	CodeInvalidJSON         Code = "INVALID_JSON"
	CodeInvalidCursor       Code = "INVALID_CURSOR"
	CodeUnauthorized        Code = "UNAUTHORIZED"
	CodeInsufficientScope   Code = "INSUFFICIENT_SCOPE"
	CodeForbidden           Code = "FORBIDDEN"
	CodeNotFound            Code = "NOT_FOUND"
	CodeMethodNotAllowed    Code = "METHOD_NOT_ALLOWED"
	CodeInvalidState        Code = "INVALID_STATE"
	CodeConflict            Code = "CONFLICT"
	CodeIdempotencyConflict Code = "IDEMPOTENCY_CONFLICT"
	CodePayloadTooLarge     Code = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMedia    Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeRateLimited         Code = "RATE_LIMITED"
	CodeInternal            Code = "INTERNAL_ERROR"
	CodeUnavailable         Code = "SERVICE_UNAVAILABLE"
)

var statusOf = map[Code]int{
	CodeValidation: 400, CodeInvalidJSON: 400, CodeInvalidCursor: 400,
	CodeUnauthorized: 401, CodeInsufficientScope: 403, CodeForbidden: 403,
	CodeNotFound: 404, CodeMethodNotAllowed: 405,
	CodeInvalidState: 409, CodeConflict: 409, CodeIdempotencyConflict: 409,
	CodePayloadTooLarge: 413, CodeUnsupportedMedia: 415, CodeRateLimited: 429,
	CodeInternal: 500, CodeUnavailable: 503,
}

// FieldError names one field at fault and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an API failure. It is an error, so handlers return it up to the one place that
// writes responses.
type Error struct {
	Code    Code         `json:"code"`
	Message string       `json:"message"`
	Details []FieldError `json:"details,omitempty"`
	// RetryAfter, when set, becomes the Retry-After header (429 and 503).
	RetryAfter time.Duration `json:"-"`
	// Allow, when set, becomes the Allow header (405).
	Allow string `json:"-"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Status is the HTTP status of the error's code.
func (e *Error) Status() int {
	if s, ok := statusOf[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// New returns an error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validation returns a VALIDATION_ERROR naming each field at fault.
func Validation(details ...FieldError) *Error {
	// One entry per field, as the contract says: the first fault found names it.
	seen := make(map[string]bool, len(details))
	details = slices.DeleteFunc(slices.Clone(details), func(d FieldError) bool {
		dup := seen[d.Field]
		seen[d.Field] = true
		return dup
	})
	msg := "Invalid request"
	if len(details) == 1 {
		msg = "Invalid " + details[0].Field + ": " + details[0].Message
	}
	return &Error{Code: CodeValidation, Message: msg, Details: details}
}

// Field returns a VALIDATION_ERROR for one field.
func Field(field, format string, args ...any) *Error {
	return Validation(FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// NotFound is the answer for anything missing or not visible to the caller.
func NotFound(what string) *Error { return New(CodeNotFound, "%s not found", what) }

// Unauthorized is the one answer to every authentication failure: it never says which part
// of the credential was wrong.
func Unauthorized() *Error {
	return New(CodeUnauthorized, "Missing or invalid credentials")
}

// Internal is the answer to a bug; the message never carries the cause.
func Internal() *Error { return New(CodeInternal, "Internal server error") }

// Unavailable is the answer when a dependency is down.
func Unavailable(dependency string, retry time.Duration) *Error {
	return New(CodeUnavailable, "%s is unavailable, retry later", dependency).WithRetry(retry)
}

// WithRetry sets the Retry-After of an error and returns it.
func (e *Error) WithRetry(retry time.Duration) *Error {
	e.RetryAfter = retry
	return e
}

func (e *Error) setHeaders(h http.Header) {
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	// RFC 9110 has every 401 name the scheme that would succeed (RFC 6750 for bearer tokens).
	if e.Status() == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="qual"`)
	}
}
