package present

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// decodeText returns data as UTF-8: from the declared charset, else as
// UTF-8 when it is valid, else as Windows-1252 (the superset of Latin-1
// that documents labelled Latin-1 are in practice written in).
func decodeText(data []byte, charset string, l Limits) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var s string
	switch {
	case charset != "" && !strings.EqualFold(charset, "utf-8") && !strings.EqualFold(charset, "us-ascii"):
		enc, err := htmlindex.Get(charset)
		if err != nil {
			return "", malformed("text", fmt.Sprintf("unknown charset %q", charset), err)
		}
		b, err := enc.NewDecoder().Bytes(data)
		if err != nil {
			return "", malformed("text", fmt.Sprintf("not valid %s", charset), err)
		}
		s = string(b)
	case utf8.Valid(data):
		s = string(data)
	default:
		b, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return "", malformed("text", "neither UTF-8 nor Windows-1252", err)
		}
		s = string(b)
	}
	return capText("text", strings.ToValidUTF8(s, "\uFFFD"), l.MaxTextBytes)
}

// capText returns s whole, or its first max bytes cut at a rune and an
// error wrapping ErrTooLarge.
func capText(format, s string, max int) (string, error) {
	if len(s) <= max {
		return s, nil
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], tooLarge(format, fmt.Sprintf("text over the limit of %d bytes", max))
}

// textBuilder collects text under a byte budget, folding runs of blank
// lines, so that block boundaries in the source become line breaks.
type textBuilder struct {
	b       strings.Builder
	max     int
	full    bool
	pending bool // a space is due before the next text
}

// space asks for one space between what was written and what comes next,
// on the same line.
func (t *textBuilder) space() { t.pending = t.b.Len() > 0 }

// write appends s; it reports false once the budget is spent.
func (t *textBuilder) write(s string) bool {
	if t.full {
		return false
	}
	if t.pending && s != "" {
		t.pending = false
		s = " " + s
	}
	if t.b.Len()+len(s) > t.max {
		t.b.WriteString(s[:t.max-t.b.Len()])
		t.full = true
		return false
	}
	t.b.WriteString(s)
	return true
}

// newline ends the current line, if any: the text has no empty lines.
func (t *textBuilder) newline() {
	t.pending = false
	s := t.b.String()
	if s == "" || strings.HasSuffix(s, "\n") {
		return
	}
	t.write("\n")
}

// result returns the text, trimmed, and ErrTooLarge if the budget ran out.
func (t *textBuilder) result(format string) (string, error) {
	s := strings.TrimSpace(t.b.String())
	if t.full {
		s, _ = capText(format, strings.ToValidUTF8(s, ""), t.max)
		return s, tooLarge(format, fmt.Sprintf("text over the limit of %d bytes", t.max))
	}
	return s, nil
}
