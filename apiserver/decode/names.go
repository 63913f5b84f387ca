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

// UnknownName finds the first member name of a JSON document that t does not declare, and
// returns its full path (`settings.lang`) and the declared name it differs from only in
// case, if any. encoding/json matches names without regard to case and names only the
// member of an unknown field, not where it is: here `{"TITLE":"x"}` is as unknown as
// `{"titel":"x"}`, and the path says which object holds it. Free-form maps are not
// checked; a malformed document reports nothing: decoding reports that.
func UnknownName(body []byte, t reflect.Type) (field, near string, unknown bool) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return "", "", false
	}
	return unknownIn(v, t, "")
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	decodePkg       = reflect.TypeFor[Optional[int]]().PkgPath()
)

// valueType is the type a JSON value decoded into t really fills: pointers followed and an
// Optional's value, and whether that type reads itself (a time), being then its own judge.
func valueType(t reflect.Type) (reflect.Type, bool) {
	for {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if !isOptional(t) {
			break
		}
		f, _ := t.FieldByName("Value")
		t = f.Type
	}
	p := reflect.PointerTo(t)
	return t, p.Implements(unmarshalerType) || p.Implements(textUnmarshalerType)
}

func isOptional(t reflect.Type) bool {
	return t.PkgPath() == decodePkg && strings.HasPrefix(t.Name(), "Optional[")
}

func unknownIn(v any, t reflect.Type, path string) (field, near string, unknown bool) {
	t, self := valueType(t)
	if self {
		return "", "", false
	}
	switch val := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields := jsonFields(t)
			for _, name := range slices.Sorted(maps.Keys(val)) {
				member := val[name]
				ft, ok := fields[name]
				if !ok {
					for known := range fields {
						if strings.EqualFold(known, name) {
							near = known
						}
					}
					return join(path, name), near, true
				}
				if f, n, bad := unknownIn(member, ft, join(path, name)); bad {
					return f, n, bad
				}
			}
		case reflect.Map:
			for _, name := range slices.Sorted(maps.Keys(val)) {
				if f, n, bad := unknownIn(val[name], t.Elem(), join(path, name)); bad {
					return f, n, bad
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, member := range val {
				if f, n, bad := unknownIn(member, t.Elem(), path+"["+strconv.Itoa(i)+"]"); bad {
					return f, n, bad
				}
			}
		}
	}
	return "", "", false
}

// jsonFields maps the JSON names of a struct's fields, embedded structs' included, to
// their types, as encoding/json reads them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for n, ft := range jsonFields(et) {
					if _, taken := out[n]; !taken {
						out[n] = ft
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// join is the path of a member: an empty name shows as "" so the path still names it.
func join(path, name string) string {
	if name == "" {
		name = `""`
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// MismatchPath finds a value of a JSON document whose kind t cannot hold (a number for a
// string, a fraction for an integer, an object for a list) and returns its full path, list
// indexes included (`questions[2]`), which encoding/json's errors leave out. Types that read
// themselves, free-form values and `,string` fields are not judged; a malformed document
// reports nothing.
func MismatchPath(body []byte, t reflect.Type) (field string, found bool) {
	return findPath(body, t, false)
}

// NullItem finds a null item of a list whose items cannot be null and returns its path
// (`questions[1]`). encoding/json decodes such an item as its type's zero value, so
// `["a", null]` would read as `["a", ""]` and be refused, if at all, as an empty value. An
// item may be null only where the list holds pointers, Optionals, free-form values or types
// that read themselves. Call it on a document that decodes into t (MismatchPath finds
// nothing then); a malformed document reports nothing.
func NullItem(body []byte, t reflect.Type) (field string, found bool) {
	// A document without the word holds no null: most bodies are spared the walk.
	if !bytes.Contains(body, []byte("null")) {
		return "", false
	}
	return findPath(body, t, true)
}

// findPath walks the document with t and returns the first value t cannot hold, and, when
// nulls, the first null item of a list that cannot hold one.
func findPath(body []byte, t reflect.Type, nulls bool) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "", false
	}
	return mismatchIn(v, t, "", nulls)
}

// nullable says a list item of type t can tell null from a value, or judges null itself.
func nullable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface || isOptional(t) {
		return true
	}
	_, self := valueType(t)
	return self
}

func mismatchIn(v any, t reflect.Type, path string, nulls bool) (string, bool) {
	t, self := valueType(t)
	if v == nil || self || t.Kind() == reflect.Interface {
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
			item := path + "[" + strconv.Itoa(i) + "]"
			if member == nil && nulls && !nullable(t.Elem()) {
				return item, true
			}
			if f, bad := mismatchIn(member, t.Elem(), item, nulls); bad {
				return f, true
			}
		}
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			fields, asString := jsonFields(t), stringFields(t)
			for _, name := range slices.Sorted(maps.Keys(val)) {
				if ft, ok := fields[name]; ok && !asString[name] {
					if f, bad := mismatchIn(val[name], ft, join(path, name), nulls); bad {
						return f, true
					}
				}
			}
		case reflect.Map:
			for _, name := range slices.Sorted(maps.Keys(val)) {
				if f, bad := mismatchIn(val[name], t.Elem(), join(path, name), nulls); bad {
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
