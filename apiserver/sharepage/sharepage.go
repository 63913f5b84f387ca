// Package sharepage is the public page of a shared knowledge graph: one HTML page, its script
// and its stylesheet, all embedded in the binary. The page loads nothing from anywhere but its
// own server: it fetches /api/v1/shared/graphs/{token} and draws the graph as SVG with a small
// force layout of its own (no third-party code). Every response carries a Content-Security-Policy
// that allows no inline script or style, so the script and the stylesheet are separate files,
// served under content-hashed names with a year-long cache lifetime. The page writes user data
// only through textContent and attribute values, never as markup.
package sharepage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// CSP is the Content-Security-Policy of every response under /share/.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// AssetPrefix is where the assets are served.
const AssetPrefix = "/share/assets/"

//go:embed assets
var files embed.FS

// Asset is one embedded file.
type Asset struct {
	Body        []byte
	ContentType string
}

var (
	assets = map[string]Asset{} // by served (hashed) name
	page   []byte
	notice *template.Template
	// names maps an asset's file name to its served name.
	names = map[string]string{}
)

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

func init() {
	for _, name := range []string{"graph.js", "graph.css"} {
		body := must(fs.ReadFile(files, "assets/"+name))
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		served := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		assets[served] = Asset{Body: body, ContentType: contentTypes[ext]}
		names[name] = served
	}
	html := string(must(fs.ReadFile(files, "assets/page.html")))
	for name, served := range names {
		html = strings.ReplaceAll(html, "{{"+name+"}}", AssetPrefix+served)
	}
	page = []byte(html)
	notice = template.Must(template.New("notice").Parse(string(must(fs.ReadFile(files, "assets/notice.html")))))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic("sharepage: " + err.Error())
	}
	return v
}

// SecurityHeaders sets the headers every response under /share/ carries.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// WritePage answers the page of a live link. The page carries no data: its script reads the
// token from its own address and fetches the graph.
func WritePage(w http.ResponseWriter) {
	h := w.Header()
	SecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page)
}

// Notices the page can answer instead of the graph.
var (
	Gone        = Notice{Status: http.StatusNotFound, Title: "This link is not available", Message: "The shared graph may have expired or been revoked. Ask whoever shared it for a new link."}
	Busy        = Notice{Status: http.StatusTooManyRequests, Title: "Too many requests", Message: "This address has opened too many shared pages in a short time. Try again in a minute."}
	Unavailable = Notice{Status: http.StatusServiceUnavailable, Title: "Temporarily unavailable", Message: "The shared graph cannot be shown right now. Try again in a moment."}
)

// Notice is a page that explains why there is no graph.
type Notice struct {
	Status         int
	Title, Message string
}

// Write answers the notice as an HTML page with its status.
func (n Notice) Write(w http.ResponseWriter) {
	var buf bytes.Buffer
	_ = notice.Execute(&buf, map[string]string{"Title": n.Title, "Message": n.Message, "CSS": AssetPrefix + names["graph.css"]})
	h := w.Header()
	SecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	w.WriteHeader(n.Status)
	_, _ = w.Write(buf.Bytes())
}

// Handle answers the notice whatever the request: an http.HandlerFunc.
func (n Notice) Handle(w http.ResponseWriter, _ *http.Request) { n.Write(w) }

// WriteAsset answers an asset by its served name, cached for a year (its name changes with its
// content), or 404.
func WriteAsset(w http.ResponseWriter, name string) {
	h := w.Header()
	SecurityHeaders(h)
	a, ok := assets[name]
	if !ok {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("not found\n"))
		return
	}
	h.Set("Content-Type", a.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.Body)
}

// AssetNames are the served names of the assets, for tests.
func AssetNames() []string {
	out := make([]string, 0, len(assets))
	for name := range assets {
		out = append(out, name)
	}
	return out
}
