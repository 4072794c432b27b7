package present

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPDFText(t *testing.T) {
	tests := []struct {
		file string
		want []string // lines (spaces folded) the text must hold
	}{
		{"mock-lab.pdf", []string{"NORTHWIND CLINICAL LABORATORY\nLipid Panel\n", "Cholesterol 6.1 mmol/L 3.0 - 5.2 H\nHDL Cholesterol 1.3 mmol/L 1.0 - 2.2",
			"Accession: ACC-2026-000123", "clinical correlation\nadvised."}},
		{"mock-note.pdf", []string{"PROGRESS NOTE (Dietetics)\n", "patient reports (improved) energy; follows the plan \\ diary.", "Plan: review HbA1c in 3 months."}},
		{"mock-long.pdf", []string{"Line 0: Glucose 4.0 mmol/L reference 3.9 - 5.5 fasting sample from the morning visit\nLine 1: Glucose 5.1", "Line 4500: Glucose"}},
		{"fhir-uscore-documentreference-adi-dnr.pdf", []string{"DO NOT RESUSCITATE (DNR) ORDER", "Patient Information"}},
		{"fhir-uscore-diagnosticreport-bone-density-report.pdf", []string{"DXA Bone density quantitative measurement panel"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Text(context.Background(), "application/pdf", readTestdata(t, tt.file), Limits{})
			require.NoError(t, err)
			folded := foldSpaces(got)
			for _, w := range tt.want {
				assert.True(t, strings.Contains(folded, w), "no %q in the text", w)
			}
		})
	}
}

func TestPDFTextRefuses(t *testing.T) {
	long := readTestdata(t, "mock-long.pdf")
	lab := readTestdata(t, "mock-lab.pdf")
	t.Run("text budget: the first bytes and ErrTooLarge", func(t *testing.T) {
		got, err := Text(context.Background(), "application/pdf", long, Limits{MaxTextBytes: 100})
		assert.ErrorIs(t, err, ErrTooLarge)
		assert.LessOrEqual(t, len(got), 100)
		assert.True(t, strings.HasPrefix(got, "Line 0: Glucose"), got)
	})
	t.Run("page budget", func(t *testing.T) {
		got, err := Text(context.Background(), "application/pdf", long, Limits{MaxPages: 1})
		assert.ErrorIs(t, err, ErrTooLarge)
		assert.True(t, strings.Contains(got, "Line 59:"), "the first page is read")
		assert.False(t, strings.Contains(got, "Line 60:"), "the second page is not")
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := Text(ctx, "application/pdf", long, Limits{})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("deadline inside a page", func(t *testing.T) {
		// one page of 400,000 text operators: the interpreter is stopped
		// from inside the content stream, not at the next page
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		big := buildPDF([][]string{lines(400_000)}, false)
		start := time.Now()
		_, err := Text(ctx, "application/pdf", big, Limits{MaxTextBytes: 64 << 20})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), time.Second)
	})
	t.Run("no text on its pages", func(t *testing.T) {
		_, err := Text(context.Background(), "application/pdf", buildPDF([][]string{{}}, false), Limits{})
		assert.ErrorIs(t, err, ErrNoText)
	})
	for name, data := range map[string][]byte{
		"truncated":       lab[:len(lab)/2],
		"garbage":         []byte("%PDF-1.4\n" + strings.Repeat("garbage ", 50)),
		"no header":       []byte("hello"),
		"bad xref offset": bytes.Replace(lab, []byte("startxref\n"), []byte("startxref\n9"), 1),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Text(context.Background(), "application/pdf", data, Limits{})
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Empty(t, got)
		})
	}
	t.Run("render keeps a PDF whose text fails", func(t *testing.T) {
		v, err := Render(context.Background(), "application/pdf", lab[:len(lab)/2], Limits{})
		require.NoError(t, err)
		assert.Equal(t, KindPDF, v.Kind)
		assert.ErrorIs(t, v.TextErr, ErrMalformed)
	})
}

func TestPDFTextCompressed(t *testing.T) {
	got, err := Text(context.Background(), "application/pdf", buildPDF([][]string{{"Ferritin 45 ug/L", "B12 (cobalamin) 310 pmol/L"}}, true), Limits{})
	require.NoError(t, err)
	assert.Equal(t, "Ferritin 45 ug/L\nB12 (cobalamin) 310 pmol/L", got)
}

func lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("Line %d: Sodium %d mmol/L reference 135 - 145", i, 130+i%20)
	}
	return out
}

// buildPDF lays out pages of text lines as a PDF 1.4 file, each content
// stream optionally Flate-compressed, as renderPDF in adapters/mockphp
// does for the uncompressed case.
func buildPDF(pages [][]string, compress bool) []byte {
	var objs []string
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	objs = append(objs,
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	)
	for i, p := range pages {
		var cs bytes.Buffer
		cs.WriteString("BT /F1 10 Tf 12 TL 54 750 Td\n")
		for _, l := range p {
			l = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l)
			fmt.Fprintf(&cs, "(%s) '\n", l)
		}
		cs.WriteString("ET")
		stream, filter := cs.Bytes(), ""
		if compress {
			var z bytes.Buffer
			w := zlib.NewWriter(&z)
			w.Write(stream)
			w.Close()
			stream, filter = z.Bytes(), " /Filter /FlateDecode"
		}
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d%s >>\nstream\n%s\nendstream", len(stream), filter, stream),
		)
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return out.Bytes()
}
