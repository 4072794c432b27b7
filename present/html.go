package present

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// policy is the allow-list every HTML fragment this package returns goes
// through, the C-CDA renderer's own included. What it keeps: text
// formatting, headings, lists, tables (with colspan/rowspan/scope),
// links to http, https and mailto URLs (rel="nofollow noreferrer",
// target="_blank"), and inline raster images (data:image/png, jpeg, gif,
// webp in base64, checked to decode and to sniff as the type they claim).
// What it drops: every other element (with the content of script, style,
// iframe, object, noscript, title…), every event handler and style
// attribute, relative URLs (they would resolve against the console), and
// any URL that loads something: an <img> may only carry a data: URL, so no
// remote image, stylesheet, frame, font or form target survives. Render
// first replaces a remote <img> by a placeholder text.
var policy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "div", "span", "pre", "code", "blockquote",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"b", "i", "u", "s", "strong", "em", "small", "sub", "sup", "abbr", "cite", "q",
		"dl", "dt", "dd",
		"table", "caption", "thead", "tbody", "tfoot", "tr", "colgroup", "col")
	p.AllowLists()
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("scope").Matching(regexp.MustCompile(`^(row|col|rowgroup|colgroup)$`)).OnElements("th")
	p.AllowAttrs("span").Matching(bluemonday.Integer).OnElements("col", "colgroup")
	p.AllowElements("td", "th")

	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("mailto")
	// A web link names its host: "https:/e/x" has none, and browsers read
	// it as another URL than the one shown.
	for _, scheme := range []string{"http", "https"} {
		p.AllowURLSchemeWithCustomPolicy(scheme, func(u *url.URL) bool { return u.Host != "" })
	}
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)

	// images only inline: the Matching keeps http(s) off <img>, the scheme
	// policy checks the payload
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("src").Matching(dataImageURL).OnElements("img")
	p.AllowURLSchemeWithCustomPolicy("data", dataImageOK)
	return p
})

var dataImageURL = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$`)

// dataImageOK accepts a data: URL only if it holds a raster image of the
// type it claims: an SVG is a document that can carry script.
func dataImageOK(u *url.URL) bool {
	if u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	claimed, payload, ok := strings.Cut(u.Opaque, ";base64,")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	return sniffImage(b) == claimed
}

// SanitizeHTML returns an HTML fragment of the allow-list policy described
// in the package doc, from s (UTF-8). The result is safe to insert into a
// page whose Content-Security-Policy the caller still sets.
func SanitizeHTML(s string) string {
	return policy().Sanitize(s)
}

// toUTF8 decodes an HTML document by its declared or sniffed charset.
func toUTF8(data []byte, contentType string) ([]byte, error) {
	enc, _, _ := charset.DetermineEncoding(data, contentType)
	b, err := io.ReadAll(enc.NewDecoder().Reader(bytes.NewReader(data)))
	if err != nil {
		return nil, malformed("html", "bytes not of the declared charset", err)
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD")), nil
}

func renderHTML(ctx context.Context, data []byte, contentType string, l Limits) (string, error) {
	b, err := toUTF8(data, contentType)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	out := policy().SanitizeBytes(markRemoteImages(b))
	if len(out) > l.MaxTextBytes {
		return "", tooLarge("html", fmt.Sprintf("sanitized HTML over the limit of %d bytes", l.MaxTextBytes))
	}
	return string(out), nil
}

// markRemoteImages replaces each <img> the policy would drop (one that
// is not an inline raster image) by a visible placeholder, so that the
// reader knows the original showed something there. Its output is
// sanitized like any input.
func markRemoteImages(b []byte) []byte {
	if !bytes.Contains(bytes.ToLower(b), []byte("<img")) {
		return b
	}
	var out bytes.Buffer
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.Bytes()
		}
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			if tok := z.Token(); tok.Data == "img" {
				src, alt := "", ""
				for _, a := range tok.Attr {
					switch a.Key {
					case "src":
						src = a.Val
					case "alt":
						alt = a.Val
					}
				}
				if u, err := url.Parse(src); err != nil || !dataImageURL.MatchString(src) || !dataImageOK(u) {
					out.WriteString(html.EscapeString(placeholder(alt)))
					continue
				}
				out.WriteString(tok.String())
				continue
			}
		}
		out.Write(z.Raw())
	}
}

func placeholder(alt string) string {
	if alt = strings.Join(strings.Fields(alt), " "); alt != "" {
		return "[image not shown: " + alt + "]"
	}
	return "[image not shown]"
}

// invisible are the elements whose content a reader does not see.
var invisible = map[string]bool{
	"script": true, "style": true, "head": true, "title": true, "noscript": true,
	"template": true, "iframe": true, "object": true, "svg": true, "math": true,
	"select": true, "textarea": true,
}

// block are the elements that end a line of text.
var block = map[string]bool{
	"p": true, "br": true, "div": true, "li": true, "tr": true, "td": true, "th": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"table": true, "ul": true, "ol": true, "dl": true, "dt": true, "dd": true,
	"pre": true, "blockquote": true, "hr": true, "caption": true, "section": true,
	"article": true, "header": true, "footer": true,
}

// htmlText returns the visible text of an HTML document: the tokenizer
// builds no tree, so depth costs nothing and only the output is bounded.
func htmlText(ctx context.Context, data []byte, contentType string, l Limits) (string, error) {
	b, err := toUTF8(data, contentType)
	if err != nil {
		return "", err
	}
	z := html.NewTokenizer(bytes.NewReader(b))
	t := textBuilder{max: l.MaxTextBytes}
	hidden := 0
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return t.result("html")
		case html.TextToken:
			if hidden == 0 {
				if f := strings.Fields(string(z.Text())); len(f) > 0 {
					if !t.write(strings.Join(f, " ")) {
						return t.result("html")
					}
					t.space()
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			hides := invisible[string(name)]
			if hides && tt == html.StartTagToken {
				hidden++
			} else if hides && tt == html.EndTagToken && hidden > 0 {
				hidden--
			}
			if block[string(name)] {
				t.newline()
			}
		}
	}
}
