package decode

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDuplicateKeyNamesTheField(t *testing.T) {
	for _, c := range []struct {
		body, field string
	}{
		{`{"title":"a","description":"b"}`, ""},
		{`{"title":"a","title":"b"}`, "title"},
		{`{"role":"viewer","scopes":["x"],"role":"owner"}`, "role"},
		{`{"settings":{"language":"en","language":"fr"}}`, "settings.language"},
		{`{"a":[{"b":1},{"b":2}],"c":{"b":3}}`, ""}, // the same name in different objects
		{`{"a":[{"b":1},{"c":["x",{"d":1,"d":2}]}]}`, "a[1].c[1].d"},
		{`{"a":{"x":1},"b":{"x":1},"a":2}`, "a"},
		{`{"":1,"":2}`, `""`},
		{`{"a":{"":1,"":2}}`, `a.""`},
		{`{"metadata":{"k":"v","K":"w"}}`, ""}, // a free-form map's names are case-sensitive
		{`{"title": `, ""},                     // malformed: decoding reports it
	} {
		field, dup := DuplicateKey([]byte(c.body))
		if dup != (c.field != "") || field != c.field {
			t.Errorf("%q: got %q %v, want %q", c.body, field, dup, c.field)
		}
	}
}

func TestDecodeRefusesDuplicateKeys(t *testing.T) {
	_, err := decodeString(t, "application/json", `{"title":"harmless","max_questions":3,"title":"other"}`)
	if err == nil || len(err.Details) != 1 || err.Details[0].Field != "title" || err.Status() != 400 {
		t.Fatalf("got %+v", err)
	}
}

func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `{"a":{"b":1},"c":{"b":1}}`, `[{"a":1},{"a":1}]`, `{"a":[{"b":1,"b":2}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		field, dup := DuplicateKey(in)
		if !json.Valid(in) {
			return // malformed: nothing is promised
		}
		if dup && field == "" {
			t.Fatalf("%q: a duplicate without a field", in)
		}
		if dup != hasDuplicate(t, in) {
			t.Fatalf("%q: DuplicateKey says %v", in, dup)
		}
	})
}

// hasDuplicate answers the same question another way: decoding each object into raw
// members and comparing the member count with the token walk's.
func hasDuplicate(t *testing.T, in []byte) bool {
	t.Helper()
	var v json.RawMessage
	if err := json.Unmarshal(in, &v); err != nil {
		t.Fatal(err)
	}
	return dupIn(t, v)
}

func dupIn(t *testing.T, raw json.RawMessage) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if countMembers(t, raw) != len(obj) {
			return true
		}
		for _, m := range obj {
			if dupIn(t, m) {
				return true
			}
		}
		return false
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		for _, m := range list {
			if dupIn(t, m) {
				return true
			}
		}
	}
	return false
}

// countMembers counts the top-level members of a JSON object.
func countMembers(t *testing.T, raw json.RawMessage) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		t.Fatal(err)
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil { // the name
			t.Fatal(err)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}
