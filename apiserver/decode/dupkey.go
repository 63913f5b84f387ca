package decode

import (
	"bytes"
	"encoding/json"
	"slices"
)

// DuplicateKey finds the first member name an object of a JSON document repeats, and
// returns its field path, such as `settings.language`. encoding/json keeps the last of
// two, while a proxy, a log or a signature check in front of the API may read the first:
// a request that means two things to two readers is refused rather than guessed at. A
// malformed document reports nothing: decoding reports that.
func DuplicateKey(body []byte) (field string, dup bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var path textPath
	// keys holds the member names seen in each open object, innermost last.
	var keys [][]string
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				keys = append(keys, nil)
			case '}':
				keys = keys[:len(keys)-1]
			}
			path.delim(t)
		case string:
			if !path.expectsKey() {
				path.valueDone()
				continue
			}
			path.key(t)
			top := &keys[len(keys)-1]
			if slices.Contains(*top, t) {
				return path.String(), true
			}
			*top = append(*top, t)
		default:
			path.valueDone()
		}
	}
}
