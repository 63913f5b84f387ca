package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"reflect"
	"strconv"
	"strings"
)

// integralRetry is the body with every integer-valued number written as an integer, when
// err is an integer field refusing such a number: JSON Schema counts 10.0 and 1e1 as
// integers, and serializers write them (a float that holds a count). A fraction still fails.
func integralRetry(err error, body []byte) ([]byte, bool) {
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) || !strings.HasPrefix(typeErr.Value, "number ") || !isInteger(typeErr.Type) {
		return nil, false
	}
	return integralNumbers(body)
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// integralNumbers rewrites each number literal with a fraction or exponent whose value is a
// whole int64 ("10.0", "1e1", "150e-1") as that integer, and says whether it changed any.
func integralNumbers(body []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out []byte
	last := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false
		}
		num, ok := tok.(json.Number)
		if !ok {
			continue
		}
		whole, ok := wholeNumber(string(num))
		if !ok {
			continue
		}
		end := int(dec.InputOffset())
		start := end - len(num)
		out = append(append(out, body[last:start]...), whole...)
		last = end
	}
	if out == nil {
		return nil, false
	}
	return append(out, body[last:]...), true
}

// wholeNumber is lit as a plain integer when it has a fraction or exponent and its exact
// value is a whole int64. Exponents past two digits are left alone: their exact value could
// take megabytes to compute, and no count needs them.
func wholeNumber(lit string) (string, bool) {
	i := strings.IndexAny(lit, ".eE")
	if i < 0 || len(lit) > 64 {
		return "", false
	}
	if e := strings.IndexAny(lit, "eE"); e >= 0 && len(strings.TrimLeft(lit[e+1:], "+-")) > 2 {
		return "", false
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return "", false
	}
	return strconv.FormatInt(r.Num().Int64(), 10), true
}
