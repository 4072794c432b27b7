package mailtest

import (
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Handler shows the received mail to a person, newest first: each
// message's envelope, subject and text alternative, whose links can be
// clicked, and its HTML alternative on a page of its own (?id=N&part=html),
// served sandboxed (no scripts, no requests) since mail is content from
// outside. Mount it anywhere, with or without http.StripPrefix: it reads
// only the query.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "only GET", http.StatusMethodNotAllowed)
			return
		}
		if id := r.URL.Query().Get("id"); id != "" {
			n, _ := strconv.Atoi(id)
			m, ok := s.Message(n)
			if !ok || r.URL.Query().Get("part") != "html" || m.HTML == "" {
				http.NotFound(w, r)
				return
			}
			h.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(m.HTML))
			return
		}
		msgs := s.Messages()
		slices.Reverse(msgs)
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("Content-Type", "text/html; charset=utf-8")
		_ = listing.Execute(w, msgs)
	})
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"')]+`)

// linked escapes text and makes its http(s) URLs links.
func linked(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range linkRE.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		u := template.HTMLEscapeString(text[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

var listing = template.Must(template.New("listing").Funcs(template.FuncMap{"linked": linked}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mail received ({{len .}})</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}article{border:1px solid #ccc;padding:0 1em;margin:1em 0}pre{white-space:pre-wrap}dt{font-weight:bold}</style>
</head><body><h1>Mail received by the demo's SMTP server ({{len .}})</h1>
{{if not .}}<p>Nothing yet: mail the service sends shows here.</p>{{end}}
{{range .}}<article id="m{{.ID}}"><h2>{{.ID}}. {{.Subject}}</h2>
<dl><dt>At</dt><dd>{{.At.Format "2006-01-02 15:04:05 MST"}}</dd>
<dt>From</dt><dd>{{with .Parsed.From}}{{.String}}{{else}}{{.From}}{{end}}</dd>
<dt>To</dt><dd>{{range .To}}{{.}} {{end}}</dd>
<dt>Message-ID</dt><dd>{{.MessageID}}</dd></dl>
<pre>{{linked .Text}}</pre>
{{if .HTML}}<p><a href="?id={{.ID}}&amp;part=html">The HTML alternative</a></p>{{end}}
{{range .Attachments}}<p>Attachment: {{.Name}} ({{.ContentType}}, {{len .Data}} bytes)</p>{{end}}
</article>{{end}}
</body></html>
`))
