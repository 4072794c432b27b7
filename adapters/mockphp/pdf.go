package mockphp

import (
	"bytes"
	"fmt"
	"strings"
)

// renderPDF lays text out as a plain PDF 1.4 document: Helvetica 10pt on
// US Letter pages, one text line per input line, wrapped at 95 columns. The
// output is deterministic (no dates, no ids) and opens in any viewer.
func renderPDF(title, text string) []byte {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, wrap(l, 95)...)
	}
	const perPage = 60
	var pages [][]string
	for len(lines) > 0 {
		n := min(perPage, len(lines))
		pages = append(pages, lines[:n])
		lines = lines[n:]
	}
	if len(pages) == 0 {
		pages = [][]string{{""}}
	}
	// objects: 1 catalog, 2 pages, 3 font, 4 info, then per page: page, contents
	var objs []string
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 5+2*i)
	}
	objs = append(objs,
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Title (%s) /Producer (mockphp) >>", pdfEscape(title)),
	)
	for i, p := range pages {
		var cs bytes.Buffer
		cs.WriteString("BT /F1 10 Tf 12 TL 54 750 Td\n")
		for _, l := range p {
			fmt.Fprintf(&cs, "(%s) '\n", pdfEscape(l))
		}
		cs.WriteString("ET")
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 6+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", cs.Len(), cs.String()),
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
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return out.Bytes()
}

func wrap(line string, width int) []string {
	if len(line) <= width {
		return []string{line}
	}
	var out []string
	for len(line) > width {
		cut := strings.LastIndexByte(line[:width], ' ')
		if cut <= 0 {
			cut = width
		}
		out = append(out, line[:cut])
		line = "    " + strings.TrimLeft(line[cut:], " ")
	}
	return append(out, line)
}

// pdfEscape makes s a PDF literal string body: ASCII only, with
// parentheses and backslashes escaped.
func pdfEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
