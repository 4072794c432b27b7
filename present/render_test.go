package present

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	png := tinyImage(t, "png")
	tests := []struct {
		name        string
		contentType string
		data        []byte
		kind        Kind
		serveAs     string
		text        string // in View.Text
		html        string // in View.HTML
	}{
		{"utf-8 text", "text/plain; charset=utf-8", []byte("Crème brûlée\nline 2"), KindText, "text/plain", "Crème brûlée\nline 2", ""},
		{"text with a BOM", "text/plain", []byte("\xef\xbb\xbfhello"), KindText, "text/plain", "hello", ""},
		{"latin-1 declared", "text/plain; charset=ISO-8859-1", []byte("Cr\xe8me br\xfbl\xe9e"), KindText, "text/plain", "Crème brûlée", ""},
		{"latin-1 undeclared", "text/plain", []byte("Cr\xe8me \x80"), KindText, "text/plain", "Crème €", ""},
		{"utf-16 declared", "text/plain; charset=utf-16le", []byte("h\x00i\x00"), KindText, "text/plain", "hi", ""},
		{"html", "text/html; charset=utf-8", []byte(`<h1 onclick="x()">Lab</h1><script>alert(1)</script><p>K 4.1</p>`), KindHTML, "text/html", "", "<h1>Lab</h1><p>K 4.1</p>"},
		{"html, latin-1 meta", "text/html", []byte("<meta charset=\"iso-8859-1\"><p>Cr\xe8me</p>"), KindHTML, "text/html", "", "<p>Crème</p>"},
		{"xhtml", "application/xhtml+xml", []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><body><p>ok</p></body></html>`), KindHTML, "application/xhtml+xml", "", "<p>ok</p>"},
		{"c-cda", "application/hl7-v3+xml", readTestdata(t, "episode-summary.xml"), KindHTML, "application/hl7-v3+xml", "", "<h1>Summary of Episode: Community Health Clinic</h1>"},
		{"c-cda as text/xml", "text/xml", readTestdata(t, "episode-summary.xml"), KindHTML, "text/xml", "", "<h2>Medications</h2>"},
		{"other xml is text", "application/xml", []byte(`<note>hi</note>`), KindText, "application/xml", "<note>hi</note>", ""},
		{"png", "image/png", png, KindImage, "image/png", "", ""},
		{"jpeg declared png", "image/png", tinyImage(t, "jpeg"), KindImage, "image/jpeg", "", ""},
		{"gif as octet-stream", "application/octet-stream", tinyImage(t, "gif"), KindImage, "image/gif", "", ""},
		{"webp", "image/webp", webpImage, KindImage, "image/webp", "", ""},
		{"svg declared as image", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), KindDownload, "image/svg+xml", "", ""},
		{"html declared as png", "image/png", []byte(`<html><script>alert(1)</script>`), KindDownload, "image/png", "", ""},
		{"pdf", "application/pdf", readTestdata(t, "mock-lab.pdf"), KindPDF, "application/pdf", "Cholesterol 6.1 mmol/L", ""},
		{"pdf as octet-stream", "application/octet-stream", readTestdata(t, "mock-note.pdf"), KindPDF, "application/pdf", "HbA1c", ""},
		{"zip", "application/zip", []byte("PK\x03\x04rest"), KindDownload, "application/zip", "", ""},
		{"no type", "", []byte{0, 1, 2}, KindDownload, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Render(context.Background(), tt.contentType, tt.data, Limits{})
			require.NoError(t, err)
			assert.Equal(t, tt.kind, v.Kind)
			assert.Equal(t, tt.serveAs, v.ContentType)
			assert.Equal(t, len(tt.data), v.Size)
			if tt.text != "" {
				assert.Contains(t, strings.Join(strings.Fields(v.Text), " "), strings.Join(strings.Fields(tt.text), " "))
			}
			if tt.html != "" {
				assert.Contains(t, v.HTML, tt.html)
			}
			if v.Kind == KindHTML {
				assertSafe(t, v.HTML)
			}
			if v.Kind == KindPDF {
				assert.NoError(t, v.TextErr)
			}
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	cda := string(readTestdata(t, "episode-summary.xml"))
	deep := `<ClinicalDocument xmlns="urn:hl7-org:v3">` + strings.Repeat("<x>", 200) + strings.Repeat("</x>", 200) + `</ClinicalDocument>`
	many := `<ClinicalDocument xmlns="urn:hl7-org:v3">` + strings.Repeat("<x/>", 1000) + `</ClinicalDocument>`
	tests := []struct {
		name        string
		contentType string
		data        string
		limits      Limits
		class       error
		reason      string
	}{
		{"over MaxBytes", "text/plain", strings.Repeat("a", 101), Limits{MaxBytes: 100}, ErrTooLarge, "over the limit of 100"},
		{"text over MaxTextBytes", "text/plain", strings.Repeat("a", 101), Limits{MaxTextBytes: 100}, ErrTooLarge, "text over the limit"},
		{"html over MaxTextBytes", "text/html", "<p>" + strings.Repeat("a", 200) + "</p>", Limits{MaxTextBytes: 100}, ErrTooLarge, "sanitized HTML over"},
		{"unknown charset", "text/plain; charset=klingon", "x", Limits{}, ErrMalformed, `unknown charset "klingon"`},
		{"cda doctype", "application/hl7-v3+xml", strings.Replace(cda, "<ClinicalDocument", `<!DOCTYPE ClinicalDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]><ClinicalDocument`, 1), Limits{}, ErrMalformed, "DOCTYPE is refused"},
		{"cda truncated", "application/hl7-v3+xml", cda[:len(cda)/2], Limits{}, ErrMalformed, "not well-formed XML"},
		{"cda mismatched tags", "application/hl7-v3+xml", `<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</section></ClinicalDocument>`, Limits{}, ErrMalformed, "not well-formed XML at line 1"},
		{"cda too deep", "application/hl7-v3+xml", deep, Limits{}, ErrTooLarge, "element depth over 100"},
		{"cda too many elements", "application/hl7-v3+xml", many, Limits{MaxElements: 500}, ErrTooLarge, "more than 500 elements"},
		{"cda rendered over MaxTextBytes", "application/hl7-v3+xml", cda, Limits{MaxTextBytes: 200}, ErrTooLarge, "rendered HTML over"},
		{"cda wrong namespace", "application/hl7-v3+xml", `<ClinicalDocument><title>x</title></ClinicalDocument>`, Limits{}, ErrMalformed, "not an HL7 v3 ClinicalDocument"},
		{"cda-typed but not xml", "application/cda+xml", `not xml at all`, Limits{}, ErrMalformed, "not an HL7 v3 ClinicalDocument"},
		{"pdf without header", "application/pdf", "hello", Limits{}, ErrMalformed, "no PDF header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(context.Background(), tt.contentType, []byte(tt.data), tt.limits)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.class)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, pe.Reason, tt.reason)
		})
	}
}

func TestRenderContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ct := range []string{"application/hl7-v3+xml", "application/pdf"} {
		data := readTestdata(t, "episode-summary.xml")
		if ct == "application/pdf" {
			data = readTestdata(t, "mock-long.pdf")
		}
		_, err := Render(ctx, ct, data, Limits{})
		assert.ErrorIs(t, err, context.Canceled, ct)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, contentType string
		data              []byte
		want              []string
		not               []string
	}{
		{"plain", "text/plain", []byte("Glucose 5.4 mmol/L"), []string{"Glucose 5.4 mmol/L"}, nil},
		{"html visible text", "text/html", []byte(`<html><head><title>T</title><style>p{}</style><script>var secret=1</script></head><body><p>Glucose</p><p>5.4</p></body></html>`),
			[]string{"Glucose\n5.4"}, []string{"secret", "p{}"}},
		{"c-cda narrative", "application/hl7-v3+xml", readTestdata(t, "episode-summary.xml"),
			[]string{"Summary of Episode", "Allergies and Intolerances", "Penicillin G Hives Active", "Metformin 500 mg twice daily", "Lipid Panel", "Cholesterol 6.1 mmol/L H", "Fasting sample."},
			[]string{"Everywoman", "34133-9"}},
		{"pdf", "application/pdf", readTestdata(t, "mock-lab.pdf"), []string{"Lipid Panel", "Cholesterol 6.1 mmol/L 3.0 - 5.2 H", "HDL Cholesterol 1.3"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Text(context.Background(), tt.contentType, tt.data, Limits{})
			require.NoError(t, err)
			folded := foldSpaces(got)
			for _, w := range tt.want {
				assert.Contains(t, folded, foldSpaces(w))
			}
			for _, w := range tt.not {
				assert.NotContains(t, got, w)
			}
		})
	}
	_, err := Text(context.Background(), "image/png", tinyImage(t, "png"), Limits{})
	assert.ErrorIs(t, err, ErrNoText)
	got, err := Text(context.Background(), "text/html", []byte("<p>"+strings.Repeat("word ", 100)+"</p>"), Limits{MaxTextBytes: 52})
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, strings.TrimSpace(strings.Repeat("word ", 11)[:52]), got, "the text that fits is returned")
}

// foldSpaces folds runs of spaces and tabs, keeping line breaks.
func foldSpaces(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}
