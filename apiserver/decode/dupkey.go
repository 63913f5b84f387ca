package decode

// DuplicateKey finds the first member name an object of a JSON document repeats, and
// returns its field path, such as `settings.language`. encoding/json keeps the last of
// two, while a proxy, a log or a signature check in front of the API may read the first:
// a request that means two things to two readers is refused rather than guessed at. A
// malformed document reports nothing: decoding reports that.
func DuplicateKey(body []byte) (field string, dup bool) {
	field, found := scan(body, true, false)
	return field, found == duplicate
}
