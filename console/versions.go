package console

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/present"
)

// historyView is the version history the viewer shows: the versions, or
// the policy's reason the actor may not see them.
type historyView struct {
	DocumentID int64
	Items      []versionRow
	// From and To are the versions the compare form starts with: the
	// one before the current, and the current.
	From, To int
	// Refused is the sentence of the policy's refusal.
	Refused string
}

// versionRow is a version with its download link.
type versionRow struct {
	practice.DocumentVersion
	Download string
}

// history reads the versions of document id for the viewer. A refusal
// of the policy (a practitioner's share gives the document as it is
// now) becomes its sentence, not an error: the viewer still shows the
// document.
func (c *Console) history(ctx context.Context, a practice.Actor, id int64) (historyView, error) {
	h := historyView{DocumentID: id}
	vs, err := c.svc.Versions(ctx, a, id)
	var de *practice.DenyError
	if errors.As(err, &de) && !de.Hidden {
		h.Refused = c.problemOf(err).Detail
		return h, nil
	}
	if err != nil {
		return h, err
	}
	for _, v := range vs {
		h.Items = append(h.Items, versionRow{DocumentVersion: v,
			Download: c.path("documents", id, "versions", v.Number, "content")})
	}
	h.To = len(vs)
	h.From = max(1, h.To-1)
	return h, nil
}

// diffView is the comparison of two versions of a document.
type diffView struct {
	practice.VersionDiff
	DocumentID int64
	Viewer     string
	// Fields are the two versions' details side by side.
	Fields []fieldRow
	Rows   []diffRow
}

// fieldRow is one detail of both versions.
type fieldRow struct {
	Name, From, To string
	Changed        bool
}

// diffRow is a line of the diff as the table shows it: its numbers in
// each version ("" where absent) and what happened to it, in words.
type diffRow struct {
	Old, New       string
	Label          string
	Added, Removed bool
	Text           string
}

// fields sets the details of both versions side by side, marking those
// the practice found changed.
func fields(d practice.VersionDiff) []fieldRow {
	deleted := func(v practice.DocumentVersion) string {
		if v.Deleted {
			return "Yes"
		}
		return "No"
	}
	rows := []struct {
		key, name string
		of        func(practice.DocumentVersion) string
	}{
		{"title", "Title", func(v practice.DocumentVersion) string { return v.Title }},
		{"type", "Type", func(v practice.DocumentVersion) string { return typeName(v.Type) }},
		{"date", "Date written", func(v practice.DocumentVersion) string { return formatDate(v.Date) }},
		{"author", "Author", func(v practice.DocumentVersion) string { return cmp.Or(v.Author, "—") }},
		{"content_type", "File type", func(v practice.DocumentVersion) string { return v.ContentType }},
		{"content", "Content", func(v practice.DocumentVersion) string { return humanSize(v.Size) }},
		{"deleted", "Deleted at the source", deleted},
	}
	out := make([]fieldRow, len(rows))
	for i, f := range rows {
		out[i] = fieldRow{Name: f.name, From: f.of(d.From), To: f.of(d.To), Changed: slices.Contains(d.Changed, f.key)}
	}
	return out
}

var opLabels = map[present.Op]string{present.OpEqual: "Unchanged", present.OpAdded: "Added", present.OpRemoved: "Removed",
	present.OpTruncated: "Not compared"}

// compareVersions shows what changed between two versions of a
// document (?from=&to=, version numbers): the fields that differ and the
// line diff of their texts, or why no text was compared.
func (c *Console) compareVersions(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, err := versionNumber(q.Get("from"), "from")
	if err != nil {
		return err
	}
	to, err := versionNumber(q.Get("to"), "to")
	if err != nil {
		return err
	}
	d, err := c.svc.DiffVersions(r.Context(), rq.actor, id, from, to)
	if err != nil {
		return err
	}
	v := diffView{VersionDiff: d, DocumentID: id, Viewer: c.path("documents", id), Fields: fields(d)}
	v.Rows = make([]diffRow, len(d.Lines))
	for i, l := range d.Lines {
		v.Rows[i] = diffRow{Old: lineNumber(l.Old), New: lineNumber(l.New), Label: opLabels[l.Op],
			Added: l.Op == present.OpAdded, Removed: l.Op == present.OpRemoved, Text: l.Text}
	}
	c.render(w, r, rq, http.StatusOK, "versions", "Versions "+strconv.Itoa(from)+" and "+strconv.Itoa(to)+" of "+d.To.Title, v)
	return nil
}

// versionContent sends one version's bytes as an attachment, as
// download does the current one's.
func (c *Console) versionContent(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := pathID(r, "n")
	if err != nil {
		return err
	}
	ct, _, err := c.svc.VersionContent(r.Context(), rq.actor, id, int(n))
	if err != nil {
		return err
	}
	sendContent(w, r, ct)
	return nil
}

func versionNumber(s, field string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, &practice.FieldError{Field: field, Reason: "is not a version number"}
	}
	return n, nil
}

func lineNumber(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
