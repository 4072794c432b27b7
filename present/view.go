package present

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Kind says how the viewer shows a document.
type Kind string

// The kinds of presentation.
const (
	KindText     Kind = "text"     // View.Text, shown preformatted
	KindHTML     Kind = "html"     // View.HTML, sanitized
	KindImage    Kind = "image"    // the bytes, served as View.ContentType
	KindPDF      Kind = "pdf"      // the bytes, to the PDF viewer
	KindDownload Kind = "download" // metadata and a download link only
)

// View is a safe presentation of one document.
type View struct {
	Kind Kind
	// ContentType is the type to serve the bytes with: for an image the
	// sniffed type, not the declared one.
	ContentType string
	// Title is the document's own title where its format carries one (C-CDA).
	Title string
	// HTML is a sanitized fragment (no <html> or <body>), for KindHTML.
	HTML string
	// Text is the document's text: for KindText what to show, for KindPDF
	// what its pages say (empty when TextErr is set).
	Text string
	// TextErr is why a PDF's text could not be extracted; the PDF is still
	// shown.
	TextErr error
	// Size is the length of the document in bytes.
	Size int
}

// format is the family a content type and its bytes belong to.
type format int

const (
	formatOther format = iota
	formatText
	formatHTML
	formatCDA
	formatImage
	formatPDF
)

// classify finds the format of data declared as contentType. The declared
// type picks the parser, except that images and PDFs are recognised by
// their bytes and XML by its root element.
func classify(contentType string, data []byte) (format, string, map[string]string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	if sniffed := sniffImage(data); sniffed != "" {
		return formatImage, sniffed, params
	}
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return formatPDF, "application/pdf", params
	}
	switch {
	case mt == "application/pdf":
		return formatPDF, mt, params
	case mt == "text/html" || mt == "application/xhtml+xml":
		return formatHTML, mt, params
	case strings.HasPrefix(mt, "image/"):
		return formatImage, mt, params
	case mt == "application/hl7-v3+xml" || mt == "application/cda+xml":
		return formatCDA, mt, params
	case mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml"):
		if isCDA(data) {
			return formatCDA, mt, params
		}
		return formatText, mt, params
	case mt == "text/plain" || mt == "text/markdown" || mt == "text/csv":
		return formatText, mt, params
	}
	return formatOther, mt, params
}

// Render presents data, declared as contentType, for the viewer.
//
// A PDF whose text cannot be extracted is still a KindPDF view, with
// TextErr set. An unknown type is a KindDownload view, not an error. The
// errors are those of the package doc, or the context's.
func Render(ctx context.Context, contentType string, data []byte, limits Limits) (View, error) {
	l := limits.withDefaults()
	f, mt, params := classify(contentType, data)
	v := View{Kind: KindDownload, ContentType: mt, Size: len(data)}
	if int64(len(data)) > l.MaxBytes {
		return v, tooLarge(formatName(f), fmt.Sprintf("document of %d bytes over the limit of %d", len(data), l.MaxBytes))
	}
	switch f {
	case formatText:
		s, err := decodeText(data, params["charset"], l)
		if err != nil {
			return v, err
		}
		v.Kind, v.Text = KindText, s
	case formatHTML:
		s, err := renderHTML(ctx, data, contentType, l)
		if err != nil {
			return v, err
		}
		v.Kind, v.HTML = KindHTML, s
	case formatCDA:
		doc, err := parseCDA(ctx, data, l)
		if err != nil {
			return v, err
		}
		v.Kind, v.Title = KindHTML, doc.title
		if v.HTML, err = doc.html(l); err != nil {
			return v, err
		}
	case formatImage:
		sniffed := sniffImage(data)
		if sniffed == "" {
			// declared an image, but not one of the types a browser can be
			// trusted to show without running anything (SVG is a document)
			return v, nil
		}
		v.Kind, v.ContentType = KindImage, sniffed
	case formatPDF:
		if !bytes.HasPrefix(data, []byte("%PDF-")) {
			return v, malformed("pdf", "no PDF header", nil)
		}
		v.Kind = KindPDF
		v.Text, v.TextErr = pdfText(ctx, data, l)
		if ctx.Err() != nil {
			return v, ctx.Err()
		}
	}
	return v, nil
}

// Extractor is Text under limits, in the shape connector.Config's
// ExtractText takes.
func Extractor(limits Limits) func(ctx context.Context, contentType string, data []byte) (string, error) {
	return func(ctx context.Context, contentType string, data []byte) (string, error) {
		return Text(ctx, contentType, data, limits)
	}
}

// Text extracts the text of data, declared as contentType, for search.
//
// Text of a type that carries none (an image, an archive) is an error
// wrapping ErrNoText. When the text is over limits.MaxTextBytes, Text
// returns its first MaxTextBytes bytes (cut at a rune) and an error
// wrapping ErrTooLarge, so that a caller may index what fits.
func Text(ctx context.Context, contentType string, data []byte, limits Limits) (string, error) {
	l := limits.withDefaults()
	f, _, params := classify(contentType, data)
	if int64(len(data)) > l.MaxBytes {
		return "", tooLarge(formatName(f), fmt.Sprintf("document of %d bytes over the limit of %d", len(data), l.MaxBytes))
	}
	switch f {
	case formatText:
		return decodeText(data, params["charset"], l)
	case formatHTML:
		return htmlText(ctx, data, contentType, l)
	case formatCDA:
		doc, err := parseCDA(ctx, data, l)
		if err != nil {
			return "", err
		}
		return doc.text(l)
	case formatPDF:
		return pdfText(ctx, data, l)
	}
	return "", &Error{Format: formatName(f), Reason: "this type carries no text", Class: ErrNoText}
}

func formatName(f format) string {
	return [...]string{"other", "text", "html", "cda", "image", "pdf"}[f]
}

// sniffImage returns the type of a raster image a browser shows without
// running anything, or "" if data is not one.
func sniffImage(data []byte) string {
	switch t := http.DetectContentType(data); t {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return t
	}
	return ""
}
