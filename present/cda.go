package present

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// hl7 is the namespace of CDA R2 elements.
const hl7 = "urn:hl7-org:v3"

// node is an element (name set) or a run of text (name empty) of a parsed
// CDA document. Elements of other namespaces (sdtc:…) keep their namespace
// in space, so that the renderer passes them by.
type node struct {
	space, name string
	attrs       []xml.Attr
	text        string
	kids        []*node
}

func (n *node) attr(name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// child returns the first child element of n in the CDA namespace named
// name, or nil; path names descendants, one level each.
func (n *node) child(path ...string) *node {
	for _, name := range path {
		if n == nil {
			return nil
		}
		var next *node
		for _, k := range n.kids {
			if k.space == hl7 && k.name == name {
				next = k
				break
			}
		}
		n = next
	}
	return n
}

// children returns the child elements of n named name.
func (n *node) children(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, k := range n.kids {
		if k.space == hl7 && k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// plain returns the text of n and its descendants, spaces folded.
func (n *node) plain() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		if n.name == "" {
			b.WriteString(n.text)
			b.WriteByte(' ')
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// isCDA reports whether data's root element is an HL7 ClinicalDocument,
// reading no further than the root's start tag.
func isCDA(data []byte) bool {
	d := xml.NewDecoder(io.LimitReader(bytes.NewReader(data), 64<<10))
	d.CharsetReader = charset.NewReaderLabel
	for range 64 {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Space == hl7 && se.Name.Local == "ClinicalDocument"
		}
	}
	return false
}

// cdaDoc is a parsed ClinicalDocument.
type cdaDoc struct {
	title string
	root  *node
}

// parseCDA reads a ClinicalDocument into a tree, refusing a DOCTYPE (Go's
// decoder resolves no external entity, but a document that declares one
// is not a C-CDA anyone should send) and stopping at the limits.
func parseCDA(ctx context.Context, data []byte, l Limits) (*cdaDoc, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charset.NewReaderLabel
	var root *node
	var stack []*node
	elements := 0
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, malformed("cda", fmt.Sprintf("not well-formed XML at line %d", line), err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, malformed("cda", "a DOCTYPE is refused", nil)
			}
		case xml.StartElement:
			elements++
			if elements > l.MaxElements {
				return nil, tooLarge("cda", fmt.Sprintf("more than %d elements", l.MaxElements))
			}
			if len(stack) >= l.MaxDepth {
				return nil, tooLarge("cda", fmt.Sprintf("element depth over %d", l.MaxDepth))
			}
			e := &node{space: t.Name.Space, name: t.Name.Local, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, malformed("cda", "more than one root element", nil)
				}
				root = e
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, &node{text: string(t)})
			}
		}
	}
	if root == nil || root.space != hl7 || root.name != "ClinicalDocument" {
		return nil, malformed("cda", "the root element is not an HL7 v3 ClinicalDocument", nil)
	}
	return &cdaDoc{title: root.child("title").plain(), root: root}, nil
}

// sections returns the top-level sections of the structured body.
func (c *cdaDoc) sections() []*node {
	var out []*node
	for _, comp := range c.root.child("component", "structuredBody").children("component") {
		if s := comp.child("section"); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// html renders the document as a sanitized fragment: title, header,
// then each section's title and narrative, nested sections one heading
// level down.
func (c *cdaDoc) html(l Limits) (string, error) {
	var b strings.Builder
	if c.title != "" {
		fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(c.title))
	}
	c.header(&b)
	for _, s := range c.sections() {
		section(&b, s, 2)
	}
	if nx := c.root.child("component", "nonXMLBody", "text"); nx != nil {
		if nx.attr("representation") != "B64" && (nx.attr("mediaType") == "" || nx.attr("mediaType") == "text/plain") {
			fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(nx.plain()))
		} else {
			fmt.Fprintf(&b, "<p><em>An embedded document of type %s is not shown.</em></p>\n", html.EscapeString(nx.attr("mediaType")))
		}
	}
	out := SanitizeHTML(b.String())
	if len(out) > l.MaxTextBytes {
		return "", tooLarge("cda", fmt.Sprintf("rendered HTML over the limit of %d bytes", l.MaxTextBytes))
	}
	return out, nil
}

// header writes the patient, the authors and the document's date.
func (c *cdaDoc) header(b *strings.Builder) {
	var rows [][2]string
	if p := c.root.child("recordTarget", "patientRole", "patient"); p != nil {
		v := personName(p.child("name"))
		if bt := cdaDate(p.child("birthTime").attrOrEmpty("value")); bt != "" {
			v += ", born " + bt
		}
		if g := p.child("administrativeGenderCode"); g != nil {
			if dn := g.attr("displayName"); dn != "" {
				v += ", " + dn
			}
		}
		rows = append(rows, [2]string{"Patient", v})
	}
	for _, a := range c.root.children("author") {
		aa := a.child("assignedAuthor")
		v := personName(aa.child("assignedPerson", "name"))
		if org := aa.child("representedOrganization", "name").plain(); org != "" {
			v = strings.TrimPrefix(v+", "+org, ", ")
		}
		if v != "" {
			rows = append(rows, [2]string{"Author", v})
		}
	}
	if t := cdaDate(c.root.child("effectiveTime").attrOrEmpty("value")); t != "" {
		rows = append(rows, [2]string{"Date", t})
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("<dl>\n")
	for _, r := range rows {
		fmt.Fprintf(b, "<dt>%s</dt><dd>%s</dd>\n", r[0], html.EscapeString(r[1]))
	}
	b.WriteString("</dl>\n")
}

func (n *node) attrOrEmpty(name string) string {
	if n == nil {
		return ""
	}
	return n.attr(name)
}

// personName formats a CDA PN: prefixes, given names, family, suffixes.
func personName(n *node) string {
	if n == nil {
		return ""
	}
	var parts []string
	for _, part := range []string{"prefix", "given", "family", "suffix"} {
		for _, k := range n.children(part) {
			parts = append(parts, k.plain())
		}
	}
	if len(parts) == 0 {
		return n.plain()
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// cdaDate turns a TS (YYYYMMDD[HHMM…]) into YYYY-MM-DD, or "".
func cdaDate(ts string) string {
	if len(ts) < 8 {
		return ""
	}
	for _, r := range ts[:8] {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return ts[:4] + "-" + ts[4:6] + "-" + ts[6:8]
}

func section(b *strings.Builder, s *node, level int) {
	h := min(level, 6)
	b.WriteString("<div>")
	if t := s.child("title").plain(); t != "" {
		fmt.Fprintf(b, "<h%d>%s</h%d>\n", h, html.EscapeString(t), h)
	}
	if t := s.child("text"); t != nil {
		narrative(b, t)
	}
	for _, comp := range s.children("component") {
		if sub := comp.child("section"); sub != nil {
			section(b, sub, level+1)
		}
	}
	b.WriteString("</div>\n")
}

// narrativeTags maps the CDA narrative block's elements to HTML ones;
// the elements not listed render their content only.
var narrativeTags = map[string]string{
	"paragraph": "p", "item": "li", "br": "br", "sub": "sub", "sup": "sup",
	"table": "table", "caption": "caption", "thead": "thead", "tbody": "tbody",
	"tfoot": "tfoot", "tr": "tr", "th": "th", "td": "td", "col": "col", "colgroup": "colgroup",
	"footnote": "small",
}

// narrative writes a section's <text> as HTML. The tags it writes are
// well-formed by construction; SanitizeHTML then removes what is not
// allowed, such as a linkHtml to a javascript: URL.
func narrative(b *strings.Builder, n *node) {
	for _, k := range n.kids {
		if k.name == "" {
			b.WriteString(html.EscapeString(k.text))
			continue
		}
		if k.space != hl7 {
			continue
		}
		tag := narrativeTags[k.name]
		attrs := ""
		switch k.name {
		case "renderMultiMedia", "footnoteRef":
			continue
		case "list":
			tag = "ul"
			if k.attr("listType") == "ordered" {
				tag = "ol"
			}
			if c := k.child("caption"); c != nil {
				fmt.Fprintf(b, "<p><strong>%s</strong></p>", html.EscapeString(c.plain()))
			}
		case "caption":
			if n.name != "table" {
				tag = "strong"
			}
		case "content":
			tag = "span"
			switch style := k.attr("styleCode"); {
			case strings.Contains(style, "Bold"):
				tag = "strong"
			case strings.Contains(style, "Italics"):
				tag = "em"
			case strings.Contains(style, "Underline"):
				tag = "u"
			}
		case "linkHtml":
			tag = "a"
			attrs = fmt.Sprintf(` href="%s"`, html.EscapeString(k.attr("href")))
		case "td", "th":
			for _, a := range []string{"colspan", "rowspan"} {
				if v := k.attr(a); v != "" {
					attrs += fmt.Sprintf(` %s="%s"`, a, html.EscapeString(v))
				}
			}
		}
		if tag == "" {
			narrative(b, k)
			continue
		}
		if tag == "br" || tag == "col" {
			fmt.Fprintf(b, "<%s>", tag)
			continue
		}
		fmt.Fprintf(b, "<%s%s>", tag, attrs)
		if k.name == "list" {
			for _, item := range k.kids {
				if item.name != "caption" {
					narrative(b, &node{kids: []*node{item}})
				}
			}
		} else {
			narrative(b, k)
		}
		fmt.Fprintf(b, "</%s>", tag)
	}
}

// text returns the title, then each section's title and narrative, one
// block a line.
func (c *cdaDoc) text(l Limits) (string, error) {
	t := textBuilder{max: l.MaxTextBytes}
	t.write(c.title)
	t.newline()
	var sec func(s *node)
	sec = func(s *node) {
		t.newline()
		t.write(s.child("title").plain())
		t.newline()
		narrativeText(&t, s.child("text"))
		for _, comp := range s.children("component") {
			if sub := comp.child("section"); sub != nil {
				sec(sub)
			}
		}
	}
	for _, s := range c.sections() {
		sec(s)
	}
	if nx := c.root.child("component", "nonXMLBody", "text"); nx != nil && nx.attr("representation") != "B64" {
		t.write(nx.plain())
	}
	return t.result("cda")
}

// narrativeText writes the text of a narrative block, a line per
// paragraph, item and table row.
func narrativeText(t *textBuilder, n *node) {
	if n == nil {
		return
	}
	for _, k := range n.kids {
		switch {
		case k.name == "":
			if f := strings.Fields(k.text); len(f) > 0 {
				t.write(strings.Join(f, " "))
				t.space()
			}
		case k.space != hl7 || k.name == "renderMultiMedia" || k.name == "footnoteRef":
		default:
			narrativeText(t, k)
			switch k.name {
			case "paragraph", "item", "tr", "br", "caption", "list", "table":
				t.newline()
			case "td", "th":
				t.space()
			}
		}
	}
}
