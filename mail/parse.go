package mail

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// The classes of a message Parse refuses.
var (
	// ErrMalformed: the message is not MIME that Parse can read (a
	// multipart without its boundary, a part cut short, an unknown
	// transfer encoding) or breaks a limit other than its size.
	ErrMalformed = errors.New("mail: malformed message")
	// ErrTooLarge: the message is over Limits.MaxBytes.
	ErrTooLarge = errors.New("mail: message too large")
)

// Limits bound what Parse reads of one message. Zero fields take the
// defaults.
type Limits struct {
	// MaxBytes bounds the whole message as sent. Default 10 MiB.
	MaxBytes int64
	// MaxParts bounds the MIME parts, counted at every depth. Default 50.
	MaxParts int
	// MaxDepth bounds how deep multiparts nest: 1 is a multipart of
	// single parts. Default 5.
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 10 << 20
	}
	if l.MaxParts <= 0 {
		l.MaxParts = 50
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 5
	}
	return l
}

// Parsed is a message as Parse read it: its headers decoded, the first
// text/plain and text/html parts as text, and every other part (or any
// part sent as an attachment) as an attachment, kept as bytes and never
// interpreted.
type Parsed struct {
	Header netmail.Header
	// From is the From header's first address; nil when it has none that
	// parses.
	From *netmail.Address
	// To is the To header's addresses.
	To      []*netmail.Address
	Subject string
	// MessageID is the Message-ID header without its angle brackets.
	MessageID string
	// Date is the Date header; zero when it has none that parses.
	Date time.Time
	// Text and HTML are the first text/plain and text/html parts, decoded
	// to UTF-8.
	Text, HTML  string
	Attachments []Attachment
}

// Attachment is a part of a message kept as it was sent, decoded from
// its transfer encoding only.
type Attachment struct {
	// Name is the file name the sender gave, without any directory.
	Name        string
	ContentType string
	Data        []byte
}

// Parse reads a message (RFC 5322 with MIME) within lim. An error wraps
// ErrTooLarge or ErrMalformed, with what was wrong.
func Parse(r io.Reader, lim Limits) (*Parsed, error) {
	lim = lim.withDefaults()
	lr := &limitReader{r: r, left: lim.MaxBytes}
	msg, err := netmail.ReadMessage(bufio.NewReader(lr))
	if err != nil {
		if lr.over {
			return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, lim.MaxBytes)
		}
		return nil, fmt.Errorf("%w: the header does not parse: %v", ErrMalformed, err)
	}
	p := &Parsed{Header: msg.Header}
	p.Subject = decodeHeader(msg.Header.Get("Subject"))
	p.MessageID = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(msg.Header.Get("Message-ID")), "<"), ">")
	if from, err := msg.Header.AddressList("From"); err == nil && len(from) > 0 {
		p.From = from[0]
	}
	if to, err := msg.Header.AddressList("To"); err == nil {
		p.To = to
	}
	if d, err := msg.Header.Date(); err == nil {
		p.Date = d
	}
	w := walker{lim: lim, p: p}
	err = w.part(textprotoHeader(msg.Header), msg.Body, 0)
	if lr.over {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	if err != nil {
		return nil, err
	}
	// Whatever follows the last part (an epilogue) counts to the size.
	if _, err := io.Copy(io.Discard, msg.Body); err != nil || lr.over {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	return p, nil
}

// partHeader is what walker reads of a part's header.
type partHeader interface{ Get(string) string }

type textprotoHeader netmail.Header

func (h textprotoHeader) Get(k string) string { return netmail.Header(h).Get(k) }

type walker struct {
	lim   Limits
	p     *Parsed
	parts int
}

func (w *walker) part(h partHeader, body io.Reader, depth int) error {
	w.parts++
	if w.parts > w.lim.MaxParts {
		return fmt.Errorf("%w: more than %d MIME parts", ErrMalformed, w.lim.MaxParts)
	}
	ct := h.Get("Content-Type")
	mt, params := "text/plain", map[string]string{"charset": "us-ascii"}
	if ct != "" {
		var err error
		if mt, params, err = mime.ParseMediaType(ct); err != nil {
			return fmt.Errorf("%w: a Content-Type does not parse: %v", ErrMalformed, err)
		}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth+1 > w.lim.MaxDepth {
			return fmt.Errorf("%w: multiparts nest deeper than %d", ErrMalformed, w.lim.MaxDepth)
		}
		boundary := params["boundary"]
		if boundary == "" {
			return fmt.Errorf("%w: a multipart has no boundary", ErrMalformed)
		}
		mr := multipart.NewReader(body, boundary)
		for n := 0; ; n++ {
			sub, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				if n == 0 {
					return fmt.Errorf("%w: a multipart has no parts", ErrMalformed)
				}
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: a multipart is cut short or its boundary is wrong: %v", ErrMalformed, err)
			}
			if err := w.part(sub.Header, sub, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	attached := disp == "attachment" || name != ""
	switch {
	case !attached && mt == "text/plain" && w.p.Text == "":
		w.p.Text = decodeCharset(params["charset"], data)
	case !attached && mt == "text/html" && w.p.HTML == "":
		w.p.HTML = decodeCharset(params["charset"], data)
	default:
		w.p.Attachments = append(w.p.Attachments, Attachment{Name: baseName(decodeHeader(name)), ContentType: mt, Data: data})
	}
	return nil
}

// decodeTransfer reads body in its Content-Transfer-Encoding.
func decodeTransfer(enc string, body io.Reader) ([]byte, error) {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "7bit", "8bit", "binary":
		r = body
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripSpace{r: body})
	default:
		return nil, fmt.Errorf("%w: unknown Content-Transfer-Encoding %q", ErrMalformed, enc)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: a part does not decode as %s: %v", ErrMalformed, enc, err)
	}
	return data, nil
}

// decodeCharset turns text in charset into UTF-8: UTF-8 and US-ASCII as
// they are (invalid bytes replaced), ISO-8859-1 and windows-1252 by their
// code points (the two differ in characters mail rarely holds). Another
// charset is read as UTF-8 if it is valid, as Latin-1 otherwise.
func decodeCharset(charset string, b []byte) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		return latin1(b)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8", "us-ascii":
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return latin1(b)
}

func latin1(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(decodeCharset(charset, b)), nil
}}

// decodeHeader decodes RFC 2047 words; a header that does not decode is
// kept as sent.
func decodeHeader(v string) string {
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// baseName drops any directory from a sender's file name.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// stripSpace drops the line breaks and spaces base64 in mail carries.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// limitReader reads at most left bytes and notes whether r had more.
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.over = true
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
