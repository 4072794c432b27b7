package present

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attacks is the sanitizer corpus: each must come out harmless whether it
// arrives as HTML, as XHTML or inside a C-CDA narrative.
var attacks = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
	`<scr<script>ipt>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<img src="https://evil.example/pixel.gif" alt="tracker">`,
	`<img src="//evil.example/pixel.gif">`,
	`<img srcset="https://evil.example/a.png 1x" src="data:image/png;base64,AAAA">`,
	`<img src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)) + `">`,
	`<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString([]byte(`<script>alert(1)</script>`)) + `">`,
	`<body onload=alert(1)>text</body>`,
	`<div onmouseover="alert(1)" ONCLICK='x()'>hover</div>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href="JaVaScRiPt:alert(1)">x</a>`,
	`<a href=" javascript:alert(1)">x</a>`,
	`<a href="java&#x09;script:alert(1)">x</a>`,
	`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`,
	`<a href="&#x6A;avascript&colon;alert(1)">x</a>`,
	`<a href="jav&#x0A;ascript:alert(1)">x</a>`,
	`<a href="vbscript:msgbox(1)">x</a>`,
	`<a href="VBScript:msgbox(1)">x</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	`<a href="/api/patients/1/delete">relative</a>`,
	`<iframe src="https://evil.example/"></iframe>`,
	`<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`,
	`<object data="https://evil.example/x.swf"></object>`,
	`<embed src="https://evil.example/x.swf">`,
	`<form action="https://evil.example/"><input name=q><button formaction="javascript:alert(1)">go</button></form>`,
	`<meta http-equiv="refresh" content="0;url=https://evil.example/">`,
	`<base href="https://evil.example/">`,
	`<link rel="stylesheet" href="https://evil.example/x.css">`,
	`<style>@import url(https://evil.example/x.css); body{background:url(https://evil.example/p.png)}</style>`,
	`<p style="width: expression(alert(1))">css</p>`,
	`<p style="background-image: url('https://evil.example/p.png')">css</p>`,
	`<div style="behavior: url(x.htc)">ie</div>`,
	`<svg><script>alert(1)</script></svg>`,
	`<svg onload=alert(1)><circle r=1 /></svg>`,
	`<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>`,
	`<video poster="https://evil.example/p.png"><source src="https://evil.example/v.mp4"></video>`,
	`<table background="https://evil.example/p.png"><tr><td background="https://evil.example/q.png">cell</td></tr></table>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>`,
	`<template><script>alert(1)</script></template>`,
	`<!--<img src="--><img src=x onerror=alert(1)//">`,
	`<a href="https://ok.example/" onclick="alert(1)" style="color:red">link</a>`,
}

func TestSanitizeHTMLCorpus(t *testing.T) {
	ctx := context.Background()
	for i, a := range attacks {
		// the checker itself can fail: it refuses every attack unsanitized
		// (but for a PNG data URL holding script, which a browser would not
		// run: the policy drops it all the same, asserted below)
		if !strings.Contains(a, "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">") {
			assert.NotEmpty(t, unsafeParts(t, a), "the checker does not see the attack %q", a)
		}
		for _, ct := range []string{"text/html", "application/xhtml+xml"} {
			t.Run(fmt.Sprintf("%d/%s", i, ct), func(t *testing.T) {
				doc := a
				if ct == "application/xhtml+xml" {
					doc = `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body>` + a + `</body></html>`
				}
				v, err := Render(ctx, ct, []byte(doc), Limits{})
				require.NoError(t, err)
				assert.Equal(t, KindHTML, v.Kind)
				assertSafe(t, v.HTML)
			})
		}
	}
}

// TestSanitizeKeepsSafeContent: the policy is not safe by removing
// everything.
func TestSanitizeKeepsSafeContent(t *testing.T) {
	png := base64.StdEncoding.EncodeToString(tinyImage(t, "png"))
	in := `<h2>Results</h2><p>Cholesterol <strong>6.1</strong></p><ul><li>one</li></ul>` +
		`<table><tr><th scope="col">A</th><td colspan="2">B</td></tr></table>` +
		`<a href="https://example.org/ranges">ranges</a><img alt="chart" src="data:image/png;base64,` + png + `">`
	out := SanitizeHTML(in)
	assertSafe(t, out)
	for _, want := range []string{"<h2>Results</h2>", "<strong>6.1</strong>", "<li>one</li>", `colspan="2"`, `scope="col"`,
		`href="https://example.org/ranges"`, `rel="nofollow noreferrer noopener"`, `target="_blank"`, `src="data:image/png;base64,` + png + `"`} {
		assert.Contains(t, out, want)
	}
	// a remote image goes, and so does a JPEG that claims to be a PNG
	jpeg := base64.StdEncoding.EncodeToString(tinyImage(t, "jpeg"))
	out = SanitizeHTML(`<img src="https://example.org/x.png"><img src="data:image/png;base64,` + jpeg + `">`)
	assert.NotContains(t, out, "src=")
	// in a rendered page, each shows as a placeholder
	v, err := Render(context.Background(), "text/html", []byte(`<p>Chart: <IMG SRC="https://example.org/x.png" alt="weight &amp; BMI"><img src=x></p>`), Limits{})
	require.NoError(t, err)
	assert.Equal(t, "<p>Chart: [image not shown: weight &amp; BMI][image not shown]</p>", v.HTML)
	out = SanitizeHTML(`<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString([]byte("<script>alert(1)</script>")) + `">`)
	assert.NotContains(t, out, "src=")
}

// TestSanitizeCDACorpus embeds the attacks in a C-CDA narrative: as
// foreign-namespace markup, as a linkHtml href, as element and attribute
// names the narrative schema does not have.
func TestSanitizeCDACorpus(t *testing.T) {
	ctx := context.Background()
	hrefs := []string{"javascript:alert(1)", " JaVaScRiPt:alert(1)", "java&#x09;script:alert(1)", "&#106;avascript:alert(1)",
		"vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD4=", "//evil.example/", "/relative"}
	var cases []string
	for _, h := range hrefs {
		cases = append(cases, `<linkHtml href="`+h+`">x</linkHtml>`)
	}
	for _, a := range attacks {
		if strings.Contains(a, "<!--") || strings.Contains(a, "&colon;") {
			continue // not well-formed XML; the malformed tests cover refusal
		}
		// as XHTML elements inside the narrative
		cases = append(cases, `<paragraph><x:div xmlns:x="http://www.w3.org/1999/xhtml">`+xmlEscapeAttack(a)+`</x:div></paragraph>`)
		// as text: it must come out as text, escaped
		cases = append(cases, `<paragraph>`+xmlText(a)+`</paragraph>`)
	}
	cases = append(cases,
		`<paragraph onclick="alert(1)" style="background:url(https://evil.example/)">p</paragraph>`,
		`<content styleCode="Bold" onmouseover="alert(1)">b</content>`,
		`<script>alert(1)</script>`,
		`<table onload="x()"><tr><td colspan="2&quot; onmouseover=&quot;alert(1)">c</td></tr></table>`,
		`<renderMultiMedia referencedObject="MM1"/><paragraph>after</paragraph>`,
		`<list><item><linkHtml href="javascript:alert(1)" onclick="x()">i</linkHtml></item></list>`,
	)
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			v, err := Render(ctx, "application/hl7-v3+xml", []byte(cdaWith(c)), Limits{})
			if err != nil {
				// a case that is not well-formed XML is refused, which is safe too
				assert.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.Equal(t, KindHTML, v.Kind)
			assertSafe(t, v.HTML)
			assert.NotContains(t, v.HTML, "<script")
		})
	}
}

// cdaWith wraps a narrative block in a minimal ClinicalDocument.
func cdaWith(narrative string) string {
	return `<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>T</title><component><structuredBody>` +
		`<component><section><title>S</title><text>` + narrative + `</text></section></component>` +
		`</structuredBody></component></ClinicalDocument>`
}

// xmlEscapeAttack makes an HTML attack well-formed enough for XML by
// closing void elements; what does not parse is refused either way.
func xmlEscapeAttack(a string) string {
	return strings.NewReplacer("<input name=q>", "<input name='q'/>", "<embed src=\"https://evil.example/x.swf\">", `<embed src="https://evil.example/x.swf"/>`).Replace(a)
}

func xmlText(a string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(a)
}
