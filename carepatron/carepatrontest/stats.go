package carepatrontest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"text/tabwriter"
)

// Stats are the fake's counters, for tests to assert on.
type Stats struct {
	// Requests counts every request, answered or refused.
	Requests int
	// Calls counts requests per operation id of the spec ("createContact",
	// "uploadContactDocument", ...), refused ones included; "unknown" for
	// requests that match no route.
	Calls map[string]int
	// Creates counts the contacts and documents created per
	// Idempotency-Key. Replays are not counted: a key mapped to more than
	// one would be a duplicate.
	Creates map[string]int
	// Updates and Deletes count applied writes.
	Updates int
	Deletes int
	// Replays counts responses answered from an idempotency record.
	Replays int
	// Throttled counts 429s, those of the rate limit and injected ones.
	Throttled int
	// Injected counts injected 429s, 500s and 503s.
	Injected int
	// LostResponses counts writes whose response was dropped.
	LostResponses int
	// InvalidRequests counts requests that broke the spec; Invalid says
	// why, as do InvalidResponses for responses when
	// Config.ValidateResponses is on.
	InvalidRequests  int
	InvalidResponses int
	Invalid          []string
}

func newStats() Stats {
	return Stats{Calls: make(map[string]int), Creates: make(map[string]int)}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Calls = maps.Clone(st.Calls)
	st.Creates = maps.Clone(st.Creates)
	st.Invalid = slices.Clone(st.Invalid)
	return st
}

// ResetStats zeroes the counters and keeps the data.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.stats = newStats()
	s.mu.Unlock()
}

// Contacts returns every contact, oldest first.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.data.contacts))
	for _, id := range slices.Sorted(maps.Keys(s.data.contacts)) {
		out = append(out, cloneContact(*s.data.contacts[id]))
	}
	return out
}

// Documents returns the contact's documents, oldest first.
func (s *Server) Documents(contactID string) []Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Document
	for _, id := range s.data.byContact[contactID] {
		out = append(out, s.data.documents[id].Document)
	}
	return out
}

// Content returns a document's file, or nil if there is no such document.
func (s *Server) Content(documentID string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.data.documents[documentID]; ok {
		return slices.Clone(d.content)
	}
	return nil
}

// DocumentsPerContact counts each contact's documents.
func (s *Server) DocumentsPerContact() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.data.contacts))
	for id := range s.data.contacts {
		out[id] = len(s.data.byContact[id])
	}
	return out
}

// Holding counts the contacts and documents whose external reference is
// ref: 1 once it is written, 0 once deleted, more for a duplicate.
func (s *Server) Holding(ref string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.data.contacts {
		if c.ExternalReference == ref {
			n++
		}
	}
	for _, d := range s.data.documents {
		if d.ExternalReference == ref {
			n++
		}
	}
	return n
}

// SourceVersion returns the source version of the contact or document whose
// external reference is ref, or "" if none holds it.
func (s *Server) SourceVersion(ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.data.contacts {
		if c.ExternalReference == ref {
			return c.SourceVersion
		}
	}
	for _, d := range s.data.documents {
		if d.ExternalReference == ref {
			return d.SourceVersion
		}
	}
	return ""
}

// Duplicates lists the external references held by more than one contact,
// or by more than one document: what a correct sync never leaves.
func (s *Server) Duplicates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[string]int)
	for _, c := range s.data.contacts {
		if c.ExternalReference != "" {
			seen["contact "+c.ExternalReference]++
		}
	}
	for _, d := range s.data.documents {
		if d.ExternalReference != "" {
			seen["document "+d.ExternalReference]++
		}
	}
	var out []string
	for ref, n := range seen {
		if n > 1 {
			out = append(out, ref)
		}
	}
	slices.Sort(out)
	return out
}

// WriteListing prints the workspace for a person: each contact's id and
// external reference, then its documents' ids, types, sizes and external
// references. It prints no names, titles or contents.
func (s *Server) WriteListing(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTACT\tDOCUMENT\tTYPE\tBYTES\tEXTERNAL REFERENCE")
	for _, c := range s.Contacts() {
		fmt.Fprintf(tw, "%s\t\t\t\t%s\n", c.Id, c.ExternalReference)
		for _, d := range s.Documents(c.Id) {
			fmt.Fprintf(tw, "\t%s\t%s\t%d\t%s\n", d.Id, d.Type, d.Size, d.ExternalReference)
		}
	}
	return tw.Flush()
}

// state is what StatePath serves.
type state struct {
	Contacts  int            `json:"contacts"`
	Documents map[string]int `json:"documentsPerContact"`
	Stats     Stats          `json:"stats"`
}

func (s *Server) serveState(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeProblem(w, &problem{status: http.StatusMethodNotAllowed, code: "method_not_allowed", detail: "GET only"})
		return
	}
	per := s.DocumentsPerContact()
	st := state{Contacts: len(per), Documents: per, Stats: s.Stats()}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(st)
}
