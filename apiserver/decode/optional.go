package decode

import (
	"bytes"
	"encoding/json"
)

// Optional is a PATCH field: it tells an absent field from an explicit null from a value.
type Optional[T any] struct {
	// Set is true when the field was in the body.
	Set bool
	// Null is true when the field was in the body as null.
	Null bool
	// Value is the field's value when it was given and not null.
	Value T
}

// UnmarshalJSON records that the field was present.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	// Strict like the body around it: encoding/json does not carry DisallowUnknownFields
	// into an Unmarshaler.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.Value)
}
