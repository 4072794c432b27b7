package console

import (
	"html"
	"html/template"
	"strings"
)

// rows builds a list's table rows as markup in Go. html/template calls
// an escaper through reflection for every value a template prints (a
// URL in an attribute, three), which over a list's rows was most of its
// rendering time; here the markup is constant strings and every value
// goes through html.EscapeString, quoted. Only lists use it: a page's
// other markup stays in its template.
type rows struct {
	b strings.Builder
}

// open writes a start tag with attributes, as name, value pairs.
func (r *rows) open(tag string, attrs ...string) {
	r.b.WriteString("<" + tag)
	for i := 0; i+1 < len(attrs); i += 2 {
		r.b.WriteString(" " + attrs[i] + `="` + html.EscapeString(attrs[i+1]) + `"`)
	}
	r.b.WriteString(">")
}

func (r *rows) close(tag string) { r.b.WriteString("</" + tag + ">") }

// raw writes constant markup.
func (r *rows) raw(s string) { r.b.WriteString(s) }

// text writes s as text.
func (r *rows) text(s string) { r.b.WriteString(html.EscapeString(s)) }

// cell writes a table cell of text.
func (r *rows) cell(s string) {
	r.raw("<td>")
	r.text(s)
	r.raw("</td>")
}

// link writes a link to one of the console's own paths; any other URL
// is replaced, as html/template replaces an unsafe one.
func (r *rows) link(href, text string, attrs ...string) {
	if !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "//") {
		href = "#ZgotmplZ"
	}
	r.open("a", append([]string{"href", href}, attrs...)...)
	r.text(text)
	r.close("a")
}

// html is the rows written, as markup. It is safe as such because every
// value in it was escaped on the way in.
func (r *rows) html() template.HTML { return template.HTML(r.b.String()) } //nolint:gosec // values escaped by rows
