package decode

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// MismatchPath finds a value of a JSON document whose kind t cannot hold (a number for a
// string, a fraction for an integer, an object for a list) and returns its full path, list
// indexes included (`questions[2]`), which encoding/json's errors leave out. Types that read
// themselves, free-form values and `,string` fields are not judged; a malformed document
// reports nothing.
func MismatchPath(body []byte, t reflect.Type) (field string, found bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "", false
	}
	return mismatchIn(v, t, "")
}

func mismatchIn(v any, t reflect.Type, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == decodePkg && strings.HasPrefix(t.Name(), "Optional[") {
		f, _ := t.FieldByName("Value")
		return mismatchIn(v, f.Type, path)
	}
	if v == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType) ||
		reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "", false
	}
	switch val := v.(type) {
	case bool:
		return path, t.Kind() != reflect.Bool
	case string:
		isBytes := t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 // base64
		return path, t.Kind() != reflect.String && !isBytes
	case json.Number:
		return path, !numberFits(val, t)
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return path, true
		}
		for i, member := range val {
			if f, bad := mismatchIn(member, t.Elem(), path+"["+strconv.Itoa(i)+"]"); bad {
				return f, true
			}
		}
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields, asString := jsonFields(t), stringFields(t)
			for _, name := range slices.Sorted(maps.Keys(val)) {
				if ft, ok := fields[name]; ok && !asString[name] {
					if f, bad := mismatchIn(val[name], ft, join(path, name)); bad {
						return f, true
					}
				}
			}
		case reflect.Map:
			for _, name := range slices.Sorted(maps.Keys(val)) {
				if f, bad := mismatchIn(val[name], t.Elem(), join(path, name)); bad {
					return f, true
				}
			}
		default:
			return path, true
		}
	}
	return "", false
}

// numberFits says a JSON number can be decoded into a Go value of type t.
func numberFits(n json.Number, t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err := strconv.ParseInt(n.String(), 10, t.Bits())
		return err == nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		_, err := strconv.ParseUint(n.String(), 10, t.Bits())
		return err == nil
	case reflect.Float32, reflect.Float64:
		_, err := strconv.ParseFloat(n.String(), t.Bits())
		return err == nil
	}
	return false
}

// stringFields are the JSON names of a struct's `,string` fields, whose numbers come quoted.
func stringFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if slices.Contains(strings.Split(opts, ","), "string") {
			out[cmp.Or(name, t.Field(i).Name)] = true
		}
	}
	return out
}
