package decode

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

type typed struct {
	named
	Count  int              `json:"count"`
	Small  int8             `json:"small"`
	Ratio  float64          `json:"ratio"`
	On     Optional[bool]   `json:"on"`
	Quoted int              `json:"quoted,string"`
	Raw    json.RawMessage  `json:"raw"`
	Blob   []byte           `json:"blob"`
	Grid   [][]int          `json:"grid"`
	Any    any              `json:"any"`
	Nums   Optional[[]uint] `json:"nums"`
}

func TestMismatchPathGivesTheIndex(t *testing.T) {
	typ := reflect.TypeFor[*typed]()
	for _, c := range []struct{ body, field string }{
		{`{"count":3,"small":-8,"ratio":0.5,"on":true,"quoted":"7","raw":[1,"x"],"blob":"AAE=","grid":[[1],[2,3]],"any":{"x":[1]},"nums":[1,2]}`, ""},
		{`{"count":1.5}`, "count"},
		{`{"small":300}`, "small"},
		{`{"on":"yes"}`, "on"},
		{`{"grid":[[1],[2,"3"]]}`, "grid[1][1]"},
		{`{"items":[{"language":"en"},{"language":2}]}`, "items[1].language"},
		{`{"nums":[1,-2]}`, "nums[1]"},
		{`{"items":{"language":"en"}}`, "items"},
		{`{"settings":["en"]}`, "settings"},
		{`{"byname":{"a":{"language":false}}}`, "byname.a.language"},
		{`{"count":null,"items":null,"settings":null}`, ""},
		{`{"count": `, ""},
	} {
		field, found := MismatchPath([]byte(c.body), typ)
		if found != (c.field != "") || field != c.field {
			t.Errorf("%s: got %q %v, want %q", c.body, field, found, c.field)
		}
	}
	if got := withoutIndexes("a[1].b[0][12].c"); got != "a.b.c" {
		t.Errorf("withoutIndexes = %q", got)
	}
}

// FuzzMismatchPath holds MismatchPath to encoding/json: what it refuses for a value's type,
// MismatchPath finds somewhere (but in a `,string` field, which it does not judge and the
// decoder's own field then names), and what MismatchPath finds, encoding/json refuses.
func FuzzMismatchPath(f *testing.F) {
	for _, s := range []string{`{}`, `{"count":1.5}`, `{"grid":[[1],["x"]]}`, `{"items":[{"language":1}]}`, `{"on":"x"}`, `{"quoted":"1"}`, `{"nums":[-1]}`, `{"raw":{}}`} {
		f.Add([]byte(s))
	}
	typ := reflect.TypeFor[*typed]()
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		field, found := MismatchPath(in, typ)
		var v typed
		err := json.Unmarshal(in, &v)
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" && typeErr.Field != "quoted" && !found {
			t.Fatalf("%q: encoding/json refuses %s (%v), MismatchPath finds nothing", in, typeErr.Field, err)
		}
		if found && err == nil {
			t.Fatalf("%q: MismatchPath refuses %s, which encoding/json decodes", in, field)
		}
	})
}
