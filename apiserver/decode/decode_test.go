package decode

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"qual.cx/operator/apiserver/envelope"
)

type settings struct {
	Language  string `json:"language"`
	Anonymous bool   `json:"anonymous"`
}

type body struct {
	Title        Optional[string]   `json:"title"`
	MaxQuestions Optional[int]      `json:"max_questions"`
	Questions    []string           `json:"questions"`
	Settings     Optional[settings] `json:"settings"`
}

func decodeString(t *testing.T, contentType, s string) (body, *envelope.Error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(s))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var b body
	return b, JSON(httptest.NewRecorder(), r, &b)
}

func TestStrictDecodingNamesTheField(t *testing.T) {
	cases := []struct {
		name, ct, body string
		code           envelope.Code
		field          string
	}{
		{"not json", "application/json", `{"title": `, envelope.CodeInvalidJSON, ""},
		{"array body", "application/json", `[1]`, envelope.CodeValidation, ""},
		{"string body", "application/json", `"x"`, envelope.CodeValidation, ""},
		{"two values", "application/json", `{} {}`, envelope.CodeInvalidJSON, ""},
		{"unknown field", "application/json", `{"titel": "x"}`, envelope.CodeValidation, "titel"},
		{"wrong type", "application/json", `{"max_questions": "ten"}`, envelope.CodeValidation, "max_questions"},
		{"wrong nested type", "application/json", `{"settings": {"anonymous": "yes"}}`, envelope.CodeValidation, "settings.anonymous"},
		{"unknown nested field", "application/json", `{"settings": {"lang": "en"}}`, envelope.CodeValidation, "lang"},
		{"list of numbers", "application/json", `{"questions": ["a", 1]}`, envelope.CodeValidation, "questions[1]"},
		{"null in a list", "application/json", `{"questions": ["a", null]}`, envelope.CodeValidation, "questions[1]"},
		{"fraction for an integer", "application/json", `{"max_questions": 1.5}`, envelope.CodeValidation, "max_questions"},
		{"form body", "application/x-www-form-urlencoded", `title=x`, envelope.CodeUnsupportedMedia, ""},
		{"no content type", "", `{"title":"x"}`, envelope.CodeUnsupportedMedia, ""},
		{"too large", "application/json", `{"title":"` + strings.Repeat("a", MaxBody) + `"}`, envelope.CodePayloadTooLarge, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeString(t, c.ct, c.body)
			if err == nil || err.Code != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
			if c.field != "" && (len(err.Details) != 1 || !strings.HasSuffix(err.Details[0].Field, c.field)) {
				t.Fatalf("error %+v does not name %q", err, c.field)
			}
		})
	}
}

func TestOptionalTellsAbsentFromNullFromValue(t *testing.T) {
	b, err := decodeString(t, "application/json; charset=utf-8", `{"title": null, "max_questions": 7}`)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Title.Set || !b.Title.Null || !b.MaxQuestions.Set || b.MaxQuestions.Value != 7 || b.Settings.Set {
		t.Fatalf("decoded %+v", b)
	}
}

// JSON Schema counts 10.0 and 1e1 as integers, and serializers write them; only a number
// with a true fraction is refused.
func TestIntegerValuedNumbersAreIntegers(t *testing.T) {
	for lit, want := range map[string]int{"7": 7, "10.0": 10, "1e1": 10, "150e-1": 15, "2.50E1": 25, "-0.0": 0} {
		b, err := decodeString(t, "application/json", `{"title":"1.0","max_questions":`+lit+`,"questions":["2e1"]}`)
		if err != nil || b.MaxQuestions.Value != want || b.Title.Value != "1.0" || b.Questions[0] != "2e1" {
			t.Errorf("%s: got %+v, %v; want %d with the strings untouched", lit, b, err, want)
		}
	}
	for _, lit := range []string{"1.5", "1e-1", "1e400", "1e99", "9223372036854775808.0", "0.99999999999999999999"} {
		if _, err := decodeString(t, "application/json", `{"max_questions":`+lit+`}`); err == nil || err.Details[0].Field != "max_questions" {
			t.Errorf("%s: got %+v, want an error naming max_questions", lit, err)
		}
	}
}

// A null item is not an empty one: the error says null, naming the item by its index.
func TestNullListItemIsCalledNull(t *testing.T) {
	for in, field := range map[string]string{
		`{"questions": ["a", null]}`:                    "questions[1]",
		`{"title": "x", "questions": [null, "b"]}`:      "questions[0]",
		`{"questions": ["null", "", null], "title": 1}`: "title", // a type error comes first
	} {
		_, err := decodeString(t, "application/json", in)
		if err == nil || err.Code != envelope.CodeValidation || len(err.Details) != 1 || err.Details[0].Field != field {
			t.Fatalf("%s: got %+v, want a VALIDATION_ERROR naming %s", in, err, field)
		}
		if field != "title" && err.Details[0].Message != "must not be null" {
			t.Fatalf("%s: message %q", in, err.Details[0].Message)
		}
	}
	if b, err := decodeString(t, "application/json", `{"title": null, "questions": ["null", ""]}`); err != nil || len(b.Questions) != 2 {
		t.Fatalf("a null title and the text null: %+v, %v", b, err)
	}
}

// A body that parses but is no object is a value of the wrong type (VALIDATION_ERROR,
// naming its kind); one that does not parse as one JSON value is INVALID_JSON.
func TestABodyThatIsNoObject(t *testing.T) {
	for in, want := range map[string]string{
		`[]`: "VALIDATION_ERROR: an array", `null`: "VALIDATION_ERROR: null", `"x"`: "VALIDATION_ERROR: a string",
		` 42`: "VALIDATION_ERROR: a number", `true`: "VALIDATION_ERROR: a boolean",
		`[1,`: "INVALID_JSON", `abc`: "INVALID_JSON", `{"title": `: "INVALID_JSON",
		// A stray closing bracket after the object is no end of input, and a broken body is
		// INVALID_JSON whatever its members say.
		`{"title":"x"}]`: "INVALID_JSON", `{"title":"x"}}]]`: "INVALID_JSON", `{"bogus":1}x`: "INVALID_JSON",
		`{"title":1}x`: "INVALID_JSON", `{} {}`: "INVALID_JSON",
	} {
		_, err := decodeString(t, "application/json", in)
		if err == nil {
			t.Fatalf("%q decoded", in)
		}
		code, kind, _ := strings.Cut(want, ": ")
		if string(err.Code) != code || !strings.Contains(err.Message, kind) || len(err.Details) != 0 {
			t.Errorf("%q: %s %q %v, want %s", in, err.Code, err.Message, err.Details, want)
		}
	}
}

func TestEmptyBodyDecodesNothing(t *testing.T) {
	for _, ct := range []string{"", "application/json"} {
		if b, err := decodeString(t, ct, ""); err != nil || b.Title.Set {
			t.Fatalf("content type %q: %v %+v", ct, err, b)
		}
	}
}

func FuzzBytes(f *testing.F) {
	for _, s := range []string{`{}`, `{"title":"x","max_questions":3}`, `{"settings":{"language":"en"}}`, `[`, `{"questions":["a",null]}`, `{"title":null}`,
		`{"questions":[null]}`, `{"questions":["null"],"title":"null"}`, `{"questions":null}`, `{"title":"x"}]`, `{"bogus":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var b body
		err := Bytes(in, &b)
		if err == nil {
			// Nothing accepted held a null question: it would have read as an empty one.
			var raw struct {
				Questions []any `json:"questions"`
			}
			if json.Unmarshal(in, &raw) == nil && slices.Contains(raw.Questions, nil) {
				t.Fatalf("input %q: a null question was accepted as %q", in, b.Questions)
			}
			return
		}
		// Every failure is a documented 4xx with a message.
		if s := err.Status(); s < 400 || s >= 500 || err.Message == "" {
			t.Fatalf("input %q gave %+v", in, err)
		}
	})
}
