package present

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

// tinyImage encodes a 2×2 image in format ("png", "jpeg", "gif").
func tinyImage(t testing.TB, format string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	require.NoError(t, err)
	return b.Bytes()
}

// webpImage is the smallest lossless WebP (1×1).
var webpImage = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

// forbidden are the elements that must never reach the viewer.
var forbidden = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Frame: true, atom.Frameset: true,
	atom.Object: true, atom.Embed: true, atom.Applet: true, atom.Form: true, atom.Input: true,
	atom.Button: true, atom.Meta: true, atom.Base: true, atom.Link: true, atom.Svg: true,
	atom.Math: true, atom.Video: true, atom.Audio: true, atom.Source: true, atom.Template: true,
	atom.Textarea: true, atom.Select: true, atom.Noscript: true,
}

var safeImageSrc = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$`)

// assertSafe parses a sanitized fragment as a browser would and walks it:
// no forbidden element, no event handler or style attribute, no URL that
// loads anything or runs script.
func assertSafe(t *testing.T, fragment string) {
	t.Helper()
	for _, p := range unsafeParts(t, fragment) {
		t.Errorf("%s survived in %q", p, fragment)
	}
}

// unsafeParts lists what assertSafe refuses in fragment.
func unsafeParts(t *testing.T, fragment string) []string {
	t.Helper()
	// parsed as a whole page, so that what the parser moves (a <meta> to
	// the head, a <body>'s attributes to the body) is walked too
	doc, err := html.Parse(strings.NewReader(fragment))
	require.NoError(t, err)
	var found []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if forbidden[n.DataAtom] || n.Namespace != "" || n.DataAtom == 0 {
				found = append(found, fmt.Sprintf("element <%s> (ns %q)", n.Data, n.Namespace))
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				val := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				switch {
				case strings.HasPrefix(key, "on"), key == "style", key == "srcset", key == "background",
					key == "formaction", key == "action", key == "xmlns", a.Namespace != "", key == "poster", key == "data":
					found = append(found, fmt.Sprintf("attribute %s=%q", a.Key, a.Val))
				case key == "src":
					if !safeImageSrc.MatchString(a.Val) || n.DataAtom != atom.Img {
						found = append(found, fmt.Sprintf("src %q on <%s>", a.Val, n.Data))
					}
				case key == "href":
					if !(strings.HasPrefix(val, "http://") || strings.HasPrefix(val, "https://") || strings.HasPrefix(val, "mailto:") ||
						safeImageSrc.MatchString(a.Val)) || n.DataAtom != atom.A {
						found = append(found, fmt.Sprintf("href %q on <%s>", a.Val, n.Data))
					}
				}
				if strings.Contains(val, "javascript:") || strings.Contains(val, "vbscript:") || strings.Contains(val, "expression(") || strings.Contains(val, "url(") {
					found = append(found, fmt.Sprintf("attribute %s=%q", a.Key, a.Val))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}
