package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

type inner struct {
	Language string `json:"language"`
}

type embedded struct {
	Shared string `json:"shared"`
}

type named struct {
	embedded
	Title    Optional[string] `json:"title"`
	Settings Optional[inner]  `json:"settings"`
	Items    []inner          `json:"items"`
	Meta     map[string]any   `json:"meta"`
	Byname   map[string]inner `json:"byname"`
	At       time.Time        `json:"at"`
	Ptr      *inner           `json:"ptr"`
	Skipped  string           `json:"-"`
	Plain    string
	Opts     Optional[[]inner] `json:"opts"`
}

func TestUnknownNameGivesThePath(t *testing.T) {
	typ := reflect.TypeFor[*named]()
	for _, c := range []struct {
		body, field, near string
	}{
		{`{"title":"x","settings":{"language":"en"},"items":[{"language":"en"}],"shared":"s","Plain":"p"}`, "", ""},
		{`{"meta":{"Anything":1,"goes":{"deep":[1]}},"at":"2026-01-01T00:00:00Z"}`, "", ""},
		{`{"titel":"x"}`, "titel", ""},
		{`{"TITLE":"x"}`, "TITLE", "title"},
		{`{"settings":{"lang":"en"}}`, "settings.lang", ""},
		{`{"settings":{"Language":"en"}}`, "settings.Language", "language"},
		{`{"items":[{"language":"en"},{"language":"en","x":1}]}`, "items[1].x", ""},
		{`{"byname":{"a":{"language":"en"},"b":{"lang":"en"}}}`, "byname.b.lang", ""},
		{`{"ptr":{"LANGUAGE":"en"}}`, "ptr.LANGUAGE", "language"},
		{`{"opts":[{"language":"en"},{"oops":1}]}`, "opts[1].oops", ""},
		{`{"Skipped":"x"}`, "Skipped", ""},
		{`{"plain":"x"}`, "plain", "Plain"},
		{`{"b":1,"a":2}`, "a", ""}, // the first in name order, so the answer does not vary
		{`{"settings":null,"items":null,"title":null}`, "", ""},
		{`{"title": `, "", ""}, // malformed: decoding reports it
	} {
		field, near, bad := UnknownName([]byte(c.body), typ)
		if bad != (c.field != "") || field != c.field || near != c.near {
			t.Errorf("%s: got %q %q %v, want %q %q", c.body, field, near, bad, c.field, c.near)
		}
	}
}

func TestDecodeRefusesNamesInAnotherCase(t *testing.T) {
	_, err := decodeString(t, "application/json", `{"settings":{"Language":"fr"}}`)
	if err == nil || len(err.Details) != 1 || err.Details[0].Field != "settings.Language" {
		t.Fatalf("got %+v", err)
	}
}

// FuzzUnknownName holds UnknownName to encoding/json's own strict decoder: whatever that
// refuses as an unknown field, UnknownName finds too, and whatever UnknownName lets through
// decodes with no unknown field. Only case differs: encoding/json folds it, UnknownName
// does not, and then it names the declared field.
func FuzzUnknownName(f *testing.F) {
	for _, s := range []string{`{}`, `{"title":"x"}`, `{"TITLE":"x"}`, `{"settings":{"lang":"en"}}`, `{"items":[{"x":1}]}`, `{"meta":{"a":1}}`, `{"byname":{"k":{"z":1}}}`, `{"opts":[{}]}`} {
		f.Add([]byte(s))
	}
	typ := reflect.TypeFor[*named]()
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) || bytes.TrimSpace(in)[0] != '{' {
			return
		}
		field, near, bad := UnknownName(in, typ)
		if bad && field == "" {
			t.Fatalf("%q: unknown without a field", in)
		}
		dec := json.NewDecoder(bytes.NewReader(in))
		dec.DisallowUnknownFields()
		var v named
		err := dec.Decode(&v)
		strictUnknown := err != nil && bytes.Contains([]byte(err.Error()), []byte("unknown field"))
		if strictUnknown && !bad {
			t.Fatalf("%q: encoding/json finds an unknown field (%v), UnknownName none", in, err)
		}
		if bad && !strictUnknown && near == "" && err == nil {
			t.Fatalf("%q: UnknownName refuses %s, which encoding/json decodes", in, field)
		}
	})
}

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

// lists holds lists whose items may be null (pointers, times, Optionals, raw JSON) beside
// typed's, whose items may not.
type lists struct {
	typed
	Ptrs  []*inner           `json:"ptrs"`
	Times []time.Time        `json:"times"`
	Maybe []Optional[string] `json:"maybe"`
	Raws  []json.RawMessage  `json:"raws"`
}

func TestNullItemGivesTheIndex(t *testing.T) {
	typ := reflect.TypeFor[*lists]()
	for _, c := range []struct{ body, field string }{
		{`{"items":[{"language":"en"},null]}`, "items[1]"},
		{`{"grid":[[1],null]}`, "grid[1]"},
		{`{"grid":[[1],[2,null]]}`, "grid[1][1]"},
		{`{"nums":[1,null]}`, "nums[1]"},
		{`{"opts":[{"language":"en"},null]}`, "opts[1]"},
		{`{"byname":{"a":{"language":"en"}},"settings":{"language":"en"},"grid":null,"items":[null]}`, "items[0]"},
		// Free-form values, and items that can say null, may be null; so may a list itself.
		{`{"meta":{"x":[null]},"any":[null,{"y":[null]}],"raw":[null]}`, ""},
		{`{"ptrs":[null],"times":[null],"maybe":[null],"raws":[null]}`, ""},
		{`{"title":"null","items":null,"nums":null,"settings":null}`, ""},
		{`{"items":[{"language":"null"}]}`, ""},
		{`{"items": [null`, ""}, // malformed: decoding reports it
	} {
		field, found := NullItem([]byte(c.body), typ)
		if found != (c.field != "") || field != c.field {
			t.Errorf("%s: got %q %v, want %q", c.body, field, found, c.field)
		}
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
