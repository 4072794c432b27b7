// Package present turns a document's bytes into something a viewer can show
// safely, into text a search index can hold, and two versions of its text
// into a line diff.
//
// It knows nothing of stores, the API or who may see a document: the caller
// has already fetched the bytes and checked the reader's rights, and decides
// what to do with the result.
//
//	v, err := present.Render(ctx, doc.ContentType, data, present.Limits{})
//	switch {
//	case errors.Is(err, present.ErrTooLarge), errors.Is(err, present.ErrMalformed):
//		// show the reason and a download link; never a 500
//	case err != nil:
//		// the context ended
//	}
//	switch v.Kind {
//	case present.KindHTML:  // v.HTML is sanitized: no scripts, no remote resources
//	case present.KindText:  // v.Text, to show in a <pre>
//	case present.KindImage: // serve data as v.ContentType (sniffed), with nosniff
//	case present.KindPDF:   // serve data raw to the PDF viewer; v.Text is its text
//	case present.KindDownload:
//	}
//
// What each type becomes:
//
//   - text/plain: [KindText], decoded from its declared charset (UTF-8 when
//     none is declared and the bytes are valid UTF-8, Windows-1252 otherwise).
//   - text/html, application/xhtml+xml: [KindHTML], sanitized by a bluemonday
//     allow-list policy; see [SanitizeHTML].
//   - C-CDA (an HL7 CDA R2 ClinicalDocument, declared as application/hl7-v3+xml,
//     application/cda+xml or any XML type whose root is ClinicalDocument):
//     [KindHTML] with the document's title, patient and authors, and each
//     section's title and narrative block, itself sanitized.
//   - image/png, image/jpeg, image/gif, image/webp: [KindImage] when the bytes
//     sniff as one of them, whatever the declared type says.
//   - application/pdf: [KindPDF] with the text of its pages.
//   - anything else: [KindDownload].
//
// [Text] extracts the text of the same types for search, and [Diff] compares
// two versions of it.
//
// Every parser runs under [Limits] and the context: a document over a limit
// gives an error wrapping [ErrTooLarge], one that cannot be parsed
// [ErrMalformed], and a deadline the context's error. A *[Error] says which
// format and why, in words a person can read; none of them ever panics.
package present
