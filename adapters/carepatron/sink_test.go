package carepatron_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	adapter "github.com/healthcare-records/healthcare-records/adapters/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
)

var quiet = slog.New(slog.DiscardHandler)

type harness struct {
	fake *carepatrontest.Server
	sink *adapter.Sink
	url  string
}

// newHarness serves a fake Carepatron on loopback and returns a Sink on it.
// When the test ends it checks that every request the client sent, and
// every response, kept to openapi/carepatron.yaml, and that the fake holds
// no duplicate.
func newHarness(t testing.TB, cfg carepatrontest.Config, remember int, opts ...carepatron.Option) *harness {
	t.Helper()
	cfg.ValidateResponses = true
	fake := carepatrontest.NewServer(cfg)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	opts = append([]carepatron.Option{
		carepatron.WithRateLimit(0, 1),
		carepatron.WithRetries(8, time.Millisecond, 10*time.Millisecond),
		carepatron.WithMaxRetryAfter(time.Second),
		carepatron.WithLogger(quiet),
	}, opts...)
	c, err := carepatron.New(srv.URL, carepatrontest.DefaultAPIKey, opts...)
	require.NoError(t, err)
	sink, err := adapter.New(adapter.Config{Client: c, Logger: quiet, Remember: remember})
	require.NoError(t, err)
	t.Cleanup(func() {
		st := fake.Stats()
		assert.Zero(t, st.InvalidRequests, "requests that broke the spec: %q", st.Invalid)
		assert.Zero(t, st.InvalidResponses, "responses that broke the spec: %q", st.Invalid)
		assert.Empty(t, fake.Duplicates(), "external references held twice")
	})
	return &harness{fake: fake, sink: sink, url: srv.URL}
}

// retrying retries what the engine would retry: errors of no class, and
// RetryAfter errors after their delay (capped, for speed).
type retrying struct{ connector.Sink }

func retry[T any](ctx context.Context, f func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := f()
		if err == nil || connector.IsPermanent(err) || attempt == 30 {
			return v, err
		}
		d, _ := connector.RetryDelay(err)
		select {
		case <-time.After(min(d, 5*time.Millisecond)):
		case <-ctx.Done():
			return v, err
		}
	}
}

func (r retrying) UpsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	return retry(ctx, func() (string, error) { return r.Sink.UpsertPatient(ctx, w) })
}

func (r retrying) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	return retry(ctx, func() (string, error) { return r.Sink.PutDocument(ctx, w) })
}

func (r retrying) DeleteDocument(ctx context.Context, d connector.DocumentDelete) error {
	_, err := retry(ctx, func() (struct{}, error) { return struct{}{}, r.Sink.DeleteDocument(ctx, d) })
	return err
}

func TestSinkConformance(t *testing.T) {
	faulty := carepatrontest.Faults{LostResponseRate: 0.3, ThrottleRate: 0.15, ErrorRate: 0.1}
	tests := []struct {
		name     string
		faults   carepatrontest.Faults
		remember int
	}{
		{"clean", carepatrontest.Faults{}, 0},
		{"clean without memory of keys", carepatrontest.Faults{}, -1},
		{"lost responses, 429s and 5xx", faulty, 0},
		{"lost responses, 429s and 5xx without memory of keys", faulty, -1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, carepatrontest.Config{Faults: tt.faults, Seed: uint64(i + 1)}, tt.remember)
			connectortest.TestSink(t, retrying{h.sink}, connectortest.SinkOptions{
				Count:       func(ref connector.Ref) int { return h.fake.Holding(ref.String()) },
				HeldVersion: func(ref connector.Ref) string { return h.fake.SourceVersion(ref.String()) },
			})
			st := h.fake.Stats()
			for key, n := range st.Creates {
				assert.Equal(t, 1, n, "creates under idempotency key %s", key)
			}
			if tt.faults.LostResponseRate > 0 {
				assert.Positive(t, st.LostResponses, "the faults were on")
			}
		})
	}
}

func patient(id, version string) connector.Patient {
	return connector.Patient{
		Ref:  connector.Ref{System: "php", Type: connector.PatientType, ID: id},
		Name: "Ada Maria Lovelace", Email: id + "@example.invalid", Version: version, UpdatedAt: updatedAt(version),
		MedicalHistory: "synthetic history", DietaryPreferences: "synthetic preferences",
		Identifiers: []connector.Identifier{{System: "urn:mrn", Value: id}},
	}
}

func document(patientID, id, version string, content string) connector.Document {
	d := connector.Document{
		Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: id},
		Patient: connector.Ref{System: "php", Type: connector.PatientType, ID: patientID},
		Type:    connector.DocumentLabResult, Title: "Lipid panel", Author: "Synthetic Clinician",
		Source: "Primary Healthcare Provider", Date: time.Date(2025, 2, 1, 9, 30, 0, 0, time.UTC),
		ContentType: "text/plain", Content: []byte(content), Version: version, UpdatedAt: updatedAt(version),
	}
	d.Seal()
	return d
}

// opaque stamps d as changed at the source when version n would be.
func opaque(d connector.Document, n int) connector.Document {
	d.UpdatedAt = updatedAt(strconv.Itoa(n))
	return d
}

// updatedAt is when the source changed a test record to version: a
// numbered version later than the one before it; any other version at
// one instant.
func updatedAt(version string) time.Time {
	n, _ := strconv.Atoi(version)
	return time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
}

func key(ref connector.Ref, version string) string {
	return connector.IdempotencyKey("carepatron", ref, version, "", false)
}

// calls returns the fake's calls per operation since the last reset, and
// resets.
func (h *harness) calls() map[string]int {
	st := h.fake.Stats()
	h.fake.ResetStats()
	return st.Calls
}

func TestSinkCalls(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, carepatrontest.Config{}, 0)
	p := patient("p1", "1")

	pid, err := h.sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "1"), Patient: p})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"searchContacts": 1, "createContact": 1}, h.calls(), "a new patient: find by ref, then create")

	d := document("p1", "d1", "1", "v1")
	w := connector.DocumentWrite{Key: key(d.Ref, "1"), PatientSinkID: pid, Document: d}
	id, err := h.sink.PutDocument(ctx, w)
	require.NoError(t, err)

	tests := []struct {
		name  string
		write connector.DocumentWrite
		want  map[string]int
	}{
		{"repeated key", w, map[string]int{}},
		{"new version by SinkID", connector.DocumentWrite{Key: key(d.Ref, "2"), SinkID: id, PatientSinkID: pid, Document: document("p1", "d1", "2", "v2")},
			map[string]int{"updateContactDocument": 1}},
		{"new version without SinkID", connector.DocumentWrite{Key: key(d.Ref, "3"), PatientSinkID: pid, Document: document("p1", "d1", "3", "v3")},
			map[string]int{"uploadContactDocument": 1, "getContactDocument": 1, "updateContactDocument": 1}},
		{"held version without SinkID", connector.DocumentWrite{Key: key(d.Ref, "3") + "-again", PatientSinkID: pid, Document: document("p1", "d1", "3", "v3")},
			map[string]int{"uploadContactDocument": 1, "getContactDocument": 1}},
		{"older version without SinkID", connector.DocumentWrite{Key: key(d.Ref, "2") + "-late", PatientSinkID: pid, Document: document("p1", "d1", "2", "v2")},
			map[string]int{"uploadContactDocument": 1, "getContactDocument": 1}},
		// Version ids are opaque: the source's update times order them.
		{"newer revision whose id sorts first", connector.DocumentWrite{Key: key(d.Ref, "0a1f"), PatientSinkID: pid, Document: opaque(document("p1", "d1", "0a1f", "v4"), 4)},
			map[string]int{"uploadContactDocument": 1, "getContactDocument": 1, "updateContactDocument": 1}},
		{"older revision whose id sorts last", connector.DocumentWrite{Key: key(d.Ref, "ffe0"), PatientSinkID: pid, Document: opaque(document("p1", "d1", "ffe0", "v3b"), 3)},
			map[string]int{"uploadContactDocument": 1, "getContactDocument": 1}},
	}
	h.calls()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.sink.PutDocument(ctx, tt.write)
			require.NoError(t, err)
			assert.Equal(t, id, got)
			assert.Equal(t, tt.want, h.calls())
		})
	}
	docs := h.fake.Documents(pid)
	require.Len(t, docs, 1)
	assert.Equal(t, "0a1f", docs[0].SourceVersion, "an older version must not be written over a newer one")
	assert.Equal(t, "v4", string(h.fake.Content(id)))

	t.Run("first write of a document is one upload", func(t *testing.T) {
		d := document("p1", "d2", "1", "other")
		_, err := h.sink.PutDocument(ctx, connector.DocumentWrite{Key: key(d.Ref, "1"), PatientSinkID: pid, Document: d})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"uploadContactDocument": 1}, h.calls())
	})
}

func TestSinkMapsMetadata(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, carepatrontest.Config{}, 0)
	p := patient("p1", "7")
	pid, err := h.sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "7"), Patient: p})
	require.NoError(t, err)
	d := document("p1", "d1", "4", "content")
	id, err := h.sink.PutDocument(ctx, connector.DocumentWrite{Key: key(d.Ref, "4"), PatientSinkID: pid, Document: d})
	require.NoError(t, err)

	contacts := h.fake.Contacts()
	require.Len(t, contacts, 1)
	c := contacts[0]
	assert.Equal(t, "Ada Maria", c.FirstName)
	assert.Equal(t, "Lovelace", c.LastName)
	assert.Equal(t, "php/Patient/p1", c.ExternalReference)
	assert.Equal(t, "7", c.SourceVersion)
	assert.Equal(t, "synthetic history", c.Fields[adapter.FieldMedicalHistory])
	assert.Equal(t, "synthetic preferences", c.Fields[adapter.FieldDietaryPreferences])

	docs := h.fake.Documents(pid)
	require.Len(t, docs, 1)
	got := docs[0]
	assert.Equal(t, id, got.Id)
	assert.Equal(t, carepatrontest.DocumentTypeLabResult, got.Type)
	assert.Equal(t, "Lipid panel", got.Title)
	assert.True(t, d.Date.Equal(got.Date))
	assert.Equal(t, "Synthetic Clinician", got.Author)
	assert.Equal(t, "Primary Healthcare Provider", got.Source)
	assert.Equal(t, "php/DocumentReference/d1", got.ExternalReference)
	assert.Equal(t, "urn:healthcare-records:php:DocumentReference:d1", got.SourceLink)
	assert.Equal(t, "text/plain", got.ContentType)
	assert.Equal(t, d.ContentHash, got.Sha256)
}

func TestSinkDeleteDocument(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, carepatrontest.Config{}, 0)
	p := patient("p1", "1")
	pid, err := h.sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "1"), Patient: p})
	require.NoError(t, err)
	put := func(id string) string {
		d := document("p1", id, "1", id)
		sid, err := h.sink.PutDocument(ctx, connector.DocumentWrite{Key: key(d.Ref, "1"), PatientSinkID: pid, Document: d})
		require.NoError(t, err)
		return sid
	}
	ref := func(id string) connector.Ref { return connector.Ref{System: "php", Type: "DocumentReference", ID: id} }
	a, b := put("a"), put("b")
	tests := []struct {
		name string
		del  connector.DocumentDelete
		left int
	}{
		{"by SinkID", connector.DocumentDelete{Key: "k1", SinkID: a, PatientSinkID: pid, Ref: ref("a")}, 1},
		{"already gone", connector.DocumentDelete{Key: "k2", SinkID: a, PatientSinkID: pid, Ref: ref("a")}, 1},
		{"by ref, without SinkID", connector.DocumentDelete{Key: "k3", PatientSinkID: pid, Ref: ref("b")}, 0},
		{"never written", connector.DocumentDelete{Key: "k4", PatientSinkID: pid, Ref: ref("c")}, 0},
		{"patient never written", connector.DocumentDelete{Key: "k5", Ref: ref("d")}, 0},
		{"patient gone", connector.DocumentDelete{Key: "k6", PatientSinkID: "ct_missing", Ref: ref("e")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, h.sink.DeleteDocument(ctx, tt.del))
			assert.Len(t, h.fake.Documents(pid), tt.left)
		})
	}
	assert.Nil(t, h.fake.Content(b))
}

func TestSinkBadInput(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		cfg     carepatrontest.Config
		apiKey  string
		doc     func(*connector.Document)
		wantMsg string
		calls   int
	}{
		{name: "invalid api key", cfg: carepatrontest.Config{}, apiKey: "wrong-key",
			wantMsg: "the api key was refused (401 invalid_api_key)", calls: 1},
		{name: "file too large (413)", cfg: carepatrontest.Config{MaxUploadBytes: 2048},
			doc:     func(d *connector.Document) { d.Content = make([]byte, 4096); d.Seal() },
			wantMsg: "413 too_large: the request is larger than the 2048 bytes Carepatron accepts", calls: 1},
		{name: "file type refused (422)", cfg: carepatrontest.Config{},
			doc:     func(d *connector.Document) { d.ContentType = "application/x-msdownload" },
			wantMsg: "422 validation_failed: file: files of type application/x-msdownload are not accepted", calls: 1},
		{name: "empty file (422)", cfg: carepatrontest.Config{},
			doc:     func(d *connector.Document) { d.Content = nil; d.Seal() },
			wantMsg: "422 validation_failed: file: is empty", calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg, 0)
			sink := h.sink
			if tt.apiKey != "" {
				c, err := carepatron.New(h.url, tt.apiKey, carepatron.WithRetries(8, time.Millisecond, time.Millisecond), carepatron.WithRateLimit(0, 1))
				require.NoError(t, err)
				sink, err = adapter.New(adapter.Config{Client: c, Logger: quiet})
				require.NoError(t, err)
				p := patient("p1", "1")
				_, err = sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "1"), Patient: p})
				require.Error(t, err)
				assert.True(t, connector.IsPermanent(err), "%v is permanent", err)
				assert.Contains(t, err.Error(), tt.wantMsg)
				assert.Equal(t, tt.calls, h.fake.Stats().Requests, "a refused key is not retried")
				return
			}
			p := patient("p1", "1")
			pid, err := sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "1"), Patient: p})
			require.NoError(t, err)
			h.fake.ResetStats()
			d := document("p1", "d1", "1", "content")
			tt.doc(&d)
			_, err = sink.PutDocument(ctx, connector.DocumentWrite{Key: key(d.Ref, "1"), PatientSinkID: pid, Document: d})
			require.Error(t, err)
			assert.True(t, connector.IsPermanent(err), "%v is permanent", err)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.Equal(t, tt.calls, h.fake.Stats().Requests, "a refused payload is not retried")
		})
	}
}

func TestSinkRateLimitedLong(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, carepatrontest.Config{Faults: carepatrontest.Faults{ThrottleRate: 1, RetryAfter: time.Minute}}, 0)
	p := patient("p1", "1")
	_, err := h.sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "1"), Patient: p})
	require.Error(t, err)
	d, ok := connector.RetryDelay(err)
	require.True(t, ok, "%v carries a delay", err)
	assert.Equal(t, time.Minute, d)
	assert.False(t, connector.IsPermanent(err))
	assert.Equal(t, 1, h.fake.Stats().Requests, "a wait longer than the client's limit is left to the engine")
}

// TestSinkNoDuplicatesUnderFaults writes many documents concurrently, each
// several times, through heavy faults, and checks each is held once.
func TestSinkNoDuplicatesUnderFaults(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, carepatrontest.Config{Seed: 42, Faults: carepatrontest.Faults{
		LostResponseRate: 0.4, ThrottleRate: 0.2, ErrorRate: 0.2,
	}}, -1, carepatron.WithRetries(2, time.Millisecond, 2*time.Millisecond))
	sink := retrying{h.sink}
	const patients, docs = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, patients*docs*3)
	for i := range patients {
		wg.Go(func() {
			p := patient(fmt.Sprintf("p%d", i), "1")
			pid, err := sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "1"), Patient: p})
			if err != nil {
				errs <- err
				return
			}
			for j := range docs {
				var sid string
				for v := 1; v <= 3; v++ {
					d := document(p.Ref.ID, fmt.Sprintf("p%d-d%d", i, j), fmt.Sprint(v), fmt.Sprintf("v%d", v))
					// Every other write forgets the SinkID, as after a crash.
					w := connector.DocumentWrite{Key: key(d.Ref, d.Version), PatientSinkID: pid, Document: d}
					if v == 2 {
						w.SinkID = sid
					}
					got, err := sink.PutDocument(ctx, w)
					if err != nil {
						errs <- err
						continue
					}
					sid = got
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range patients {
		ref := connector.Ref{System: "php", Type: connector.PatientType, ID: fmt.Sprintf("p%d", i)}
		assert.Equal(t, 1, h.fake.Holding(ref.String()), "contacts for %s", ref)
		for j := range docs {
			ref := connector.Ref{System: "php", Type: "DocumentReference", ID: fmt.Sprintf("p%d-d%d", i, j)}
			assert.Equal(t, 1, h.fake.Holding(ref.String()), "documents for %s", ref)
			assert.Equal(t, "3", h.fake.SourceVersion(ref.String()))
		}
	}
	st := h.fake.Stats()
	assert.Positive(t, st.LostResponses)
	assert.Positive(t, st.Replays)
	for k, n := range st.Creates {
		assert.Equal(t, 1, n, "creates under key %s", k)
	}
}

func TestNewRequiresClient(t *testing.T) {
	_, err := adapter.New(adapter.Config{})
	require.Error(t, err)
	var e *carepatron.Error
	assert.False(t, errors.As(err, &e))
}
