package apiserver

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Latin letters with diacritics, and those written as letters of their own, are spelled in
// ASCII rather than dropped, which left fragments ("n-c-d-stra-e").
func TestSlugTransliteratesLatinLetters(t *testing.T) {
	cases := [][2]string{ // title, slug
		{"Ünïcödé Straße ǅ", "unicode-strasse-dz"},
		{"Équipe Nord", "equipe-nord"},
		{"Æsir Ørsted Œuvre Þing", "aesir-orsted-oeuvre-thing"},
		{"Đorđe Łódź ẞ İstanbul", "dorde-lodz-ss-istanbul"},
		{"ﬁnal Ｗide ½", "final-wide-1-2"},
		{"Crème brûlée: 日本語の調査", "creme-brulee"},
		{"Ångström ĳssel Ŋoma Ħal", "angstrom-ijssel-ngoma-hal"},
		{"e\u0301te\u0301 (decomposed)", "ete-decomposed"},
	}
	for _, c := range cases {
		if got := slugBase(c[0], "campaign"); got != c[1] {
			t.Errorf("slug of %q: %q, want %q", c[0], got, c[1])
		}
	}
	if got := slugBase("日本語の調査", "campaign"); got != "campaign" {
		t.Errorf("a title of another script: %q", got)
	}
}

var asciiSlug = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// oldSlug is the slug before transliteration, which ASCII titles must keep.
func oldSlug(title string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(title), "-"), "-")
}

// Every title has a kebab-case slug of at most 200 characters (or the fallback), a slug is
// its own slug, and an ASCII title's slug is what it was before transliteration.
func FuzzSlugBase(f *testing.F) {
	for _, s := range []string{"", "Ünïcödé Straße ǅ", "日本語", "a--b", "ÆØÅ æøå", "e\u0301", "ﬁ½²", strings.Repeat("é", 300), "İı", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		got := slugBase(title, "fallback")
		if got == "fallback" {
			return
		}
		if !asciiSlug.MatchString(got) || len(got) > 200 {
			t.Fatalf("slug of %q: %q", title, got)
		}
		if again := slugBase(got, "fallback"); again != got {
			t.Fatalf("slug of slug %q: %q", got, again)
		}
		if isASCII(title) && utf8.ValidString(title) {
			want := oldSlug(title)
			if len(want) > 200 {
				want = strings.TrimRight(want[:200], "-")
			}
			if got != want {
				t.Fatalf("ASCII title %q: %q, was %q", title, got, want)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
