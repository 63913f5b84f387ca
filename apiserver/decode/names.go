package decode

import (
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

func unknownIn(v any, t reflect.Type, path string) (field, near string, unknown bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == decodePkg && strings.HasPrefix(t.Name(), "Optional[") {
		f, _ := t.FieldByName("Value")
		return unknownIn(v, f.Type, path)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return "", "", false // a type that reads itself (a time) is its own judge
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
