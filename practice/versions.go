package practice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/present"
)

// DocumentVersion is one version of a document: the current one, or one
// it replaced. A version is kept whenever what a sink shows of the
// document changes (its content, metadata or deletion), so that an
// amended document does not overwrite the last one.
type DocumentVersion struct {
	// Number counts the versions kept here from 1, in the order kept.
	Number int
	// Current marks the document's version now.
	Current bool
	// Version is the source's version id ("" for an upload's).
	Version     string
	Type        connector.DocumentType
	Title       string
	Date        time.Time
	Author      string
	Source      string
	ContentType string
	Size        int64
	ContentHash string
	Deleted     bool
	// UpdatedAt is when the source last changed it; SavedAt when it was
	// kept here.
	UpdatedAt, SavedAt time.Time
	// Text is the text extracted from its content in the pull, where the
	// store returns it (DocumentVersionContent).
	Text string
}

// VersionDiff compares two versions of a document: the metadata fields
// that differ and, for text-bearing content (plain text, HTML, C-CDA
// narrative, a PDF's text), the lines of both.
type VersionDiff struct {
	From, To DocumentVersion
	// Changed names the fields that differ: "title", "type", "date",
	// "author", "content_type" and "content".
	Changed []string
	// Lines is the line diff of the two texts (see present.Diff); empty
	// when the content is the same or either version has no text.
	Lines []present.Line
	// Added and Removed count Lines of each kind.
	Added, Removed int
	// Notice tells the reader why no text was compared, or that only a
	// part was; empty otherwise.
	Notice string
}

// Summary says in one line what changed, for a notification: "3 lines
// added, 1 removed", or the fields that changed when no text was
// compared. It quotes no content.
func (d VersionDiff) Summary() string {
	if d.Added+d.Removed > 0 {
		return linesChanged(d.Added, d.Removed)
	}
	if len(d.Changed) == 0 {
		return "no change"
	}
	s := "changed: "
	for i, f := range d.Changed {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	return s
}

// countLines counts the added and the removed lines of a diff.
func countLines(lines []present.Line) (added, removed int) {
	for _, l := range lines {
		switch l.Op {
		case present.OpAdded:
			added++
		case present.OpRemoved:
			removed++
		}
	}
	return added, removed
}

// linesChanged says how many lines a diff added and removed.
func linesChanged(added, removed int) string {
	return plural(added, "line added", "lines added") + ", " + plural(removed, "line removed", "lines removed")
}

// Versions lists a document's versions, oldest first, the current one
// last. Reading them is audited.
func (s *Service) Versions(ctx context.Context, a Actor, id int64) ([]DocumentVersion, error) {
	var out []DocumentVersion
	d, err := s.readVersions(ctx, a, id, func(tx Tx) (err error) {
		out, err = tx.DocumentVersions(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("versions of document %d: %w", id, err)
	}
	s.record(ctx, a, ActionReadVersions, OutcomeSuccess, d.PatientID, id, "", fmt.Sprintf("%d versions", len(out)))
	return out, nil
}

// Version returns one version of a document, by its number.
func (s *Service) Version(ctx context.Context, a Actor, id int64, number int) (DocumentVersion, error) {
	vs, err := s.Versions(ctx, a, id)
	if err != nil {
		return DocumentVersion{}, err
	}
	if number < 1 || number > len(vs) {
		return DocumentVersion{}, fmt.Errorf("version %d of document %d: %w", number, id, ErrNotFound)
	}
	return vs[number-1], nil
}

// VersionContent returns one version of a document with its content, for
// a download, and the version.
func (s *Service) VersionContent(ctx context.Context, a Actor, id int64, number int) (Content, DocumentVersion, error) {
	var (
		c Content
		v DocumentVersion
	)
	d, err := s.readVersions(ctx, a, id, func(tx Tx) (err error) {
		c.Body, v, err = tx.DocumentVersionContent(ctx, id, number)
		return err
	})
	if err != nil {
		return Content{}, DocumentVersion{}, fmt.Errorf("version %d of document %d: %w", number, id, err)
	}
	c.Document = d
	c.Title, c.Type, c.Date, c.Author, c.Source = v.Title, v.Type, v.Date, v.Author, v.Source
	c.ContentType, c.Size, c.ContentHash, c.Version = v.ContentType, v.Size, v.ContentHash, v.Version
	c.FileName = FileName(v.Title, v.ContentType, id)
	s.record(ctx, a, ActionReadVersions, OutcomeSuccess, d.PatientID, id, "", fmt.Sprintf("version %d content", number))
	return c, v, nil
}

// DiffVersions compares version from with version to of a document. The
// text of each is what the pull extracted, or else what present.Text
// finds in its content, within present's default limits.
func (s *Service) DiffVersions(ctx context.Context, a Actor, id int64, from, to int) (VersionDiff, error) {
	var (
		versions [2]DocumentVersion
		bodies   [2]io.ReadSeeker
		texts    [2]string
	)
	d, err := s.readVersions(ctx, a, id, func(tx Tx) (err error) {
		for i, n := range [2]int{from, to} {
			if bodies[i], versions[i], err = tx.DocumentVersionContent(ctx, id, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return VersionDiff{}, fmt.Errorf("diff versions %d and %d of document %d: %w", from, to, id, err)
	}
	diff := VersionDiff{From: versions[0], To: versions[1], Changed: changedFields(versions[0], versions[1])}
	if diff.From.ContentHash != diff.To.ContentHash {
		for i, v := range versions {
			t, notice, err := versionText(ctx, v, bodies[i])
			if err != nil {
				return VersionDiff{}, fmt.Errorf("diff versions %d and %d of document %d: %w", from, to, id, err)
			}
			if notice != "" && diff.Notice == "" {
				diff.Notice = fmt.Sprintf("Version %d: %s.", v.Number, notice)
			}
			texts[i] = t
		}
		if texts[0] != "" || texts[1] != "" {
			diff.Lines = present.Diff(texts[0], texts[1])
		}
		diff.Added, diff.Removed = countLines(diff.Lines)
	}
	s.record(ctx, a, ActionReadVersions, OutcomeSuccess, d.PatientID, id, "",
		fmt.Sprintf("diff of versions %d and %d", from, to))
	return diff, nil
}

// readVersions checks that a may read the versions of document id, then
// runs fn in the same read.
func (s *Service) readVersions(ctx context.Context, a Actor, id int64, fn func(Tx) error) (Document, error) {
	var d Document
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		if d, err = s.checkedDocument(ctx, tx, a, ActionReadVersions, id); err != nil {
			return err
		}
		return fn(tx)
	})
	return d, err
}

// changedFields names the metadata and content that differ between two
// versions.
func changedFields(a, b DocumentVersion) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"title", a.Title == b.Title},
		{"type", a.Type == b.Type},
		{"date", a.Date.Equal(b.Date)},
		{"author", a.Author == b.Author},
		{"content_type", a.ContentType == b.ContentType},
		{"content", a.ContentHash == b.ContentHash},
		{"deleted", a.Deleted == b.Deleted},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// versionText returns the text of a version for a diff: its extracted
// text, or what present.Text finds in its content. A version with no
// text, or over the limits, gives a notice for the reader instead of an
// error; text cut at the limit is compared and noticed.
func versionText(ctx context.Context, v DocumentVersion, body io.Reader) (string, string, error) {
	if v.Text != "" {
		return v.Text, "", nil
	}
	if v.Deleted || v.Size == 0 {
		return "", "", nil
	}
	const limit = int64(present.DefaultMaxBytes)
	if v.Size > limit {
		return "", fmt.Sprintf("too large to compare (%s; up to %s)", sizeText(v.Size), sizeText(limit)), nil
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return "", "", err
	}
	text, err := present.Text(ctx, v.ContentType, data, present.Limits{})
	var pe *present.Error
	switch {
	case err == nil:
		return text, "", nil
	case errors.Is(err, present.ErrTooLarge) && text != "":
		return text, "only the first part of its text is compared", nil
	case errors.As(err, &pe):
		return "", "no text to compare (" + pe.Reason + ")", nil
	}
	return "", "", err
}
