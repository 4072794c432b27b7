package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// static holds what the console serves to browsers: its own script and
// style, and the vendored libraries (see assets/vendor.sh) with their
// licences. axe-core is vendored for the browser tests and not served.
//
//go:embed assets/console.js assets/console.css assets/viewer.js assets/charts.js
//go:embed assets/vendor/htmx.org assets/vendor/htmx-ext-sse assets/vendor/pico
//go:embed assets/vendor/uplot assets/vendor/pdfjs-dist
var static embed.FS

// assets serves the static files under names that carry a hash of their
// content, so that they can be cached for a year: a changed file has
// another URL. Each is gzipped once, at start, and served so to a browser
// that accepts it.
type assets struct {
	prefix string
	// urls maps a file's path (under assets/) to its URL.
	urls map[string]string
	// files maps a URL's path after prefix to the file.
	files map[string]*asset
}

// asset is one file, with its gzipped bytes when they are smaller.
type asset struct {
	path string
	raw  []byte
	gz   []byte
}

func newAssets(prefix string) (*assets, error) {
	sub, err := fs.Sub(static, "assets")
	if err != nil {
		return nil, err
	}
	a := &assets{prefix: prefix, urls: map[string]string{}, files: map[string]*asset{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := hex.EncodeToString(sum[:6]) + "/" + p
		a.urls[p] = prefix + name
		f := &asset{path: p, raw: b}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		if zw.Close() == nil && buf.Len() < len(b) {
			f.gz = buf.Bytes()
		}
		a.files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: assets: %w", err)
	}
	return a, nil
}

// url is the URL of the asset at p (under assets/). A path that is not an
// asset is a programming error: it panics, so that a template naming a
// missing file fails its first test.
func (a *assets) url(p string) string {
	u, ok := a.urls[p]
	if !ok {
		panic("console: no asset " + p)
	}
	return u
}

// ServeHTTP answers GET prefix + hash/path with the file and a year's
// immutable caching, and 404 for any other name (an old hash included:
// the page that asked for it is older than this binary).
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[strings.TrimPrefix(r.URL.Path, a.prefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Type", contentTypeOf(f.path))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	b := f.raw
	if f.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		b = f.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip:
// named, with no q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !found {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

func contentTypeOf(p string) string {
	switch path.Ext(p) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}
