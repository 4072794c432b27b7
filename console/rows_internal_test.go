package console

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRowsEscape(t *testing.T) {
	tests := []struct {
		name  string
		write func(*rows)
		want  string
	}{
		{"text", func(r *rows) { r.cell(`<b>"Tom" & 'Jerry'</b>`) },
			`<td>&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;</td>`},
		{"attribute", func(r *rows) { r.open("tr", "data-type", `x" onclick="alert(1)`) },
			`<tr data-type="x&#34; onclick=&#34;alert(1)">`},
		{"own path", func(r *rows) { r.link("/console/documents/7?a=1&b=2", "View", "download", "") },
			`<a href="/console/documents/7?a=1&amp;b=2" download="">View</a>`},
		{"script URL", func(r *rows) { r.link("javascript:alert(1)", "x") }, `<a href="#ZgotmplZ">x</a>`},
		{"other host", func(r *rows) { r.link("//example.com/", "x") }, `<a href="#ZgotmplZ">x</a>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r rows
			tc.write(&r)
			assert.Equal(t, tc.want, string(r.html()))
		})
	}
}
