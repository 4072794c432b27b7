package present

import (
	"bytes"
	"context"
	"fmt"

	"github.com/ledongthuc/pdf"
)

// stop is the panic that ends a page's content stream early: the
// library's interpreter takes a callback with no way to return an error.
type stop struct{ err error }

// pdfText extracts the text of a PDF's pages, in content-stream order, a
// line per text line. The library is github.com/ledongthuc/pdf (see
// docs/presentation.md for why); it panics on some malformed input, and
// those panics are recovered here into ErrMalformed.
func pdfText(ctx context.Context, data []byte, l Limits) (text string, err error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return "", malformed("pdf", "no PDF header", nil)
	}
	t := textBuilder{max: l.MaxTextBytes}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if s, ok := r.(stop); ok {
			if s.err != nil { // the context; else the budget, handled by result
				text, err = "", s.err
				return
			}
			text, err = t.result("pdf")
			return
		}
		text, err = "", malformed("pdf", "the PDF cannot be read", fmt.Errorf("pdf library: %v", r))
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", malformed("pdf", "the PDF cannot be opened", err)
	}
	pages, over := pageList(r, l.MaxPages)
	for _, p := range pages {
		if t.full {
			break
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		pageText(ctx, &t, p)
		t.newline()
	}
	text, err = t.result("pdf")
	switch {
	case err != nil:
		return text, err
	case over:
		return text, tooLarge("pdf", fmt.Sprintf("more than %d pages; the text is of the first %d", l.MaxPages, l.MaxPages))
	case text == "":
		return "", &Error{Format: "pdf", Reason: "its pages hold no text (a scan?)", Class: ErrNoText}
	}
	return text, nil
}

// pageList walks the page tree once, in order, up to max pages; over
// reports more. (The library's Reader.Page(i) walks it from the root on
// each call, which made a 7,500-page PDF take minutes.) The tree's depth
// is bounded, so a cycle of Kids ends.
func pageList(r *pdf.Reader, max int) (pages []pdf.Page, over bool) {
	var walk func(v pdf.Value, depth int)
	walk = func(v pdf.Value, depth int) {
		if over || depth > 64 {
			return
		}
		if v.Key("Type").Name() == "Page" {
			if len(pages) == max {
				over = true
				return
			}
			pages = append(pages, pdf.Page{V: v})
			return
		}
		kids := v.Key("Kids")
		for i := 0; i < kids.Len() && !over; i++ {
			walk(kids.Index(i), depth+1)
		}
	}
	walk(r.Trailer().Key("Root").Key("Pages"), 0)
	return pages, over
}

// pageText interprets one page's content stream, writing the strings it
// shows and a line break where the text moves to a new line.
func pageText(ctx context.Context, t *textBuilder, p pdf.Page) {
	if p.V.IsNull() || p.V.Key("Contents").IsNull() {
		return
	}
	encoders := map[string]pdf.TextEncoding{}
	var enc pdf.TextEncoding
	show := func(v pdf.Value) {
		if v.Kind() != pdf.String {
			return
		}
		s := v.RawString()
		if enc != nil {
			s = enc.Decode(s)
		}
		if !t.write(s) {
			panic(stop{})
		}
	}
	lastY, ops := 0.0, 0
	pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
		ops++
		if ops%4096 == 0 {
			if err := ctx.Err(); err != nil {
				panic(stop{err: err})
			}
		}
		args := make([]pdf.Value, stk.Len())
		for i := len(args) - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "BT", "T*":
			t.newline()
		case "Tf":
			if len(args) != 2 || args[0].Kind() != pdf.Name {
				return
			}
			name := args[0].Name()
			e, ok := encoders[name]
			if !ok {
				f := p.Font(name)
				e = f.Encoder()
				encoders[name] = e
			}
			enc = e
		case "Td", "TD":
			if len(args) == 2 && args[1].Float64() != 0 {
				t.newline()
			} else {
				t.space()
			}
		case "Tm":
			if len(args) == 6 && args[5].Float64() != lastY {
				lastY = args[5].Float64()
				t.newline()
			} else {
				t.space()
			}
		case "'":
			if len(args) == 1 {
				t.newline()
				show(args[0])
			}
		case "\"":
			if len(args) == 3 {
				t.newline()
				show(args[2])
			}
		case "Tj":
			if len(args) == 1 {
				show(args[0])
			}
		case "TJ":
			if len(args) != 1 || args[0].Kind() != pdf.Array {
				return
			}
			a := args[0]
			for i := 0; i < a.Len(); i++ {
				x := a.Index(i)
				if x.Kind() == pdf.String {
					show(x)
				} else if x.Float64() < -200 { // a gap wider than a fifth of an em is a space
					t.space()
				}
			}
		}
	})
}
