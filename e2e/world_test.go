package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
)

// source is the server's name for the provider: refs the fake holds are
// "php/DocumentReference/<id>".
const source = "php"

// mockPHP is examples/mock-php running as a process.
type mockPHP struct {
	*proc
	base, admin, clientID, keyFile, kid string
}

func startMock(t testing.TB, patients, docs int, seed int64, flags ...string) *mockPHP {
	t.Helper()
	m := &mockPHP{clientID: "healthcare-records-e2e"}
	m.proc = startProc(t, "mock-php", nil, append([]string{"-addr", "127.0.0.1:0", "-patients", strconv.Itoa(patients),
		"-docs", strconv.Itoa(docs), "-seed", strconv.FormatInt(seed, 10), "-key-dir", t.TempDir(),
		"-client-id", m.clientID}, flags...)...)
	wait := 2 * time.Minute // generating 10,000 documents takes a while on a busy machine
	m.base = m.banner(t, "FHIR base URL:", wait)
	m.keyFile = strings.Fields(m.banner(t, "private key:", 5*time.Second))[0]
	jwks := strings.Fields(m.banner(t, "public JWKS:", 5*time.Second))[0]
	admin := strings.Fields(m.banner(t, "admin:", 5*time.Second))[0]
	m.admin = admin[:strings.Index(admin, mockphp.AdminPath)+len(mockphp.AdminPath)-1]
	b, err := os.ReadFile(jwks)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("mock JWKS %s: %v", jwks, err)
	}
	m.kid = set.Keys[0].Kid
	return m
}

// subscribe registers the server's receiver for patient and document
// changes, signed with secret.
func (m *mockPHP) subscribe(ctx context.Context, hookURL, secret string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := call(ctx, "POST", m.admin+"/subscriptions", map[string]any{
		"url": hookURL, "format": "standard-webhooks", "secrets": []string{secret},
		"resource_types": []string{"Patient", "DocumentReference"},
	}, &out)
	return out.ID, err
}

// setFaults replaces the mock's faults (see mockphp.Faults).
func (m *mockPHP) setFaults(ctx context.Context, f map[string]any) error {
	return call(ctx, "PUT", m.admin+"/faults", f, nil)
}

// change is one entry of the mock's change log.
type change struct {
	Seq          uint64    `json:"seq"`
	Type         string    `json:"type"`
	ResourceType string    `json:"resourceType"`
	ID           string    `json:"id"`
	VersionID    string    `json:"versionId"`
	At           time.Time `json:"at"`
}

// touch makes n random changes at the mock; each reaches subscribers as
// a webhook.
func (m *mockPHP) touch(ctx context.Context, n int) ([]change, error) {
	var out []change
	err := call(ctx, "POST", m.admin+"/touch?n="+strconv.Itoa(n), nil, &out)
	return out, err
}

// patientIDs lists the mock's patients.
func (m *mockPHP) patientIDs(ctx context.Context) ([]string, error) {
	var ps []struct {
		ID string `json:"id"`
	}
	if err := call(ctx, "GET", m.admin+"/patients", nil, &ps); err != nil {
		return nil, err
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids, nil
}

// dataSet is what the mock holds: what a converged sync mirrors.
type dataSet struct {
	patients []string
	// live maps each live DocumentReference id to its current version.
	live map[string]string
	// deleted are the DocumentReferences deleted at the mock.
	deleted map[string]bool
	// changed are the documents the change log touched (after the
	// initial data).
	changed map[string]bool
}

// dataSet reads the mock's patients, every document with its current
// version (opaque or not), and the change log.
func (m *mockPHP) dataSet(ctx context.Context) (dataSet, error) {
	var ps []struct {
		ID string `json:"id"`
	}
	if err := call(ctx, "GET", m.admin+"/patients", nil, &ps); err != nil {
		return dataSet{}, err
	}
	var docs []mockphp.DocumentInfo
	if err := call(ctx, "GET", m.admin+"/documents", nil, &docs); err != nil {
		return dataSet{}, err
	}
	var log []change
	if err := call(ctx, "GET", m.admin+"/changes?after=0", nil, &log); err != nil {
		return dataSet{}, err
	}
	ds := dataSet{live: map[string]string{}, deleted: map[string]bool{}, changed: map[string]bool{}}
	for _, c := range log {
		if c.ResourceType == "DocumentReference" {
			ds.changed[c.ID] = true
		}
	}
	for _, p := range ps {
		ds.patients = append(ds.patients, p.ID)
	}
	for _, d := range docs {
		if d.Deleted {
			ds.deleted[d.ID] = true
		} else {
			ds.live[d.ID] = d.VersionID
		}
	}
	return ds, nil
}

// fakeCP is examples/fake-carepatron running as a process.
type fakeCP struct {
	*proc
	url string
}

func startFake(t testing.TB, args ...string) *fakeCP {
	t.Helper()
	f := &fakeCP{proc: startProc(t, "fake-carepatron", nil, append([]string{"-addr", "127.0.0.1:0"}, args...)...)}
	f.url = f.banner(t, "fake Carepatron:", 30*time.Second)
	return f
}

// export is what the fake's /_fake/export serves.
type export struct {
	Contacts []struct {
		ID                string `json:"id"`
		ExternalReference string `json:"externalReference"`
	} `json:"contacts"`
	Documents []struct {
		ID                string    `json:"id"`
		ExternalReference string    `json:"externalReference"`
		SourceVersion     string    `json:"sourceVersion"`
		CreatedAt         time.Time `json:"createdAt"`
		UpdatedAt         time.Time `json:"updatedAt"`
	} `json:"documents"`
}

func (f *fakeCP) export(ctx context.Context) (export, error) {
	var ex export
	err := call(ctx, "GET", f.url+"/_fake/export", nil, &ex)
	return ex, err
}

// fakeStats is the part of the fake's /_fake/state the tests read.
type fakeStats struct {
	Stats struct {
		Requests      int            `json:"Requests"`
		Calls         map[string]int `json:"Calls"`
		Creates       map[string]int `json:"Creates"`
		Replays       int            `json:"Replays"`
		Throttled     int            `json:"Throttled"`
		Injected      int            `json:"Injected"`
		LostResponses int            `json:"LostResponses"`
	} `json:"stats"`
}

func (f *fakeCP) stats(ctx context.Context) (fakeStats, error) {
	var st fakeStats
	err := call(ctx, "GET", f.url+carepatrontest.StatePath, nil, &st)
	return st, err
}

// mirror compares what the fake holds with the mock's data set: every
// patient a contact once; every live document once, at its current
// version; no deleted document, nothing else.
//
// Lenient is for runs that lose webhooks and reconcile. There, a deleted
// document still held once is counted rather than an error: its deletion
// was only ever told by a webhook that was lost, and a search does not
// list deleted resources, so reconciliation cannot repair it. And a
// DiagnosticReport held once is allowed: deleting a lab result's
// DocumentReference at the mock leaves its DiagnosticReport, which a
// reconcile then lists, no longer a duplicate, as a document of its own.
func mirror(ds dataSet, ex export, lenient bool) (staleDeletes int, err error) {
	var problems []string
	contacts := map[string]int{}
	for _, c := range ex.Contacts {
		contacts[c.ExternalReference]++
	}
	for _, p := range ds.patients {
		if n := contacts[source+"/Patient/"+p]; n != 1 {
			problems = append(problems, fmt.Sprintf("patient %s held by %d contacts", p, n))
		}
	}
	held := map[string]int{}
	version := map[string]string{}
	reports := map[string]int{}
	for _, d := range ex.Documents {
		id, ok := strings.CutPrefix(d.ExternalReference, source+"/DocumentReference/")
		if !ok {
			reports[d.ExternalReference]++
			if !lenient || !strings.HasPrefix(d.ExternalReference, source+"/DiagnosticReport/") || reports[d.ExternalReference] > 1 {
				problems = append(problems, "unexpected document "+d.ExternalReference)
			}
			continue
		}
		held[id]++
		version[id] = d.SourceVersion
	}
	missing, stale := 0, 0
	for id, v := range ds.live {
		switch {
		case held[id] == 0:
			missing++
		case held[id] > 1:
			problems = append(problems, fmt.Sprintf("document %s held %d times", id, held[id]))
		case version[id] != v:
			stale++
			if stale <= 3 {
				problems = append(problems, fmt.Sprintf("document %s at version %s, want %s", id, version[id], v))
			}
		}
	}
	if missing > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d live documents missing", missing, len(ds.live)))
	}
	if stale > 3 {
		problems = append(problems, fmt.Sprintf("%d documents at an old version", stale))
	}
	for id := range ds.deleted {
		switch {
		case held[id] == 0:
		case held[id] == 1 && lenient:
			staleDeletes++
		default:
			problems = append(problems, fmt.Sprintf("deleted document %s held %d times", id, held[id]))
		}
	}
	for id := range held {
		if _, ok := ds.live[id]; !ok && !ds.deleted[id] {
			problems = append(problems, "document "+id+" unknown to the mock")
		}
	}
	if len(problems) > 0 {
		if len(problems) > 8 {
			problems = append(problems[:8], fmt.Sprintf("and %d more", len(problems)-8))
		}
		return staleDeletes, fmt.Errorf("fake Carepatron does not mirror the mock (%d documents held): %s",
			len(ex.Documents), strings.Join(problems, "; "))
	}
	return staleDeletes, nil
}

// server is the webhook server as a process that can be killed and
// started again on the same address.
type server struct {
	addr string
	env  []string
	p    *proc
	// starts counts the processes started.
	starts int
}

// newServer configures a server syncing the mock into the fake through
// databaseURL; extra settings override the others.
func newServer(t testing.TB, m *mockPHP, f *fakeCP, databaseURL, secret string, patients []string, extra ...string) *server {
	s := &server{addr: freeAddr(t)}
	s.env = append([]string{
		"DATABASE_URL=" + databaseURL,
		"LISTEN_ADDR=" + s.addr,
		"LOG_LEVEL=warn",
		"FHIR_BASE_URL=" + m.base,
		"SMART_CLIENT_ID=" + m.clientID, "SMART_KEY_FILE=" + m.keyFile, "SMART_KEY_ID=" + m.kid,
		"WEBHOOK_FORMAT=standard-webhooks", "WEBHOOK_SECRETS=" + secret,
		"CAREPATRON_BASE_URL=" + f.url, "CAREPATRON_API_KEY=" + carepatrontest.DefaultAPIKey,
		"SYNC_PATIENTS=" + strings.Join(patients, ","),
		"SHUTDOWN_TIMEOUT=10s",
	}, extra...)
	return s
}

func (s *server) hookURL() string { return "http://" + s.addr + "/webhooks/" + source }

// start runs a server process and waits until it is ready.
func (s *server) start(t testing.TB) {
	t.Helper()
	s.starts++
	s.p = startProc(t, "webhook-server", s.env)
	ctx := context.Background()
	err := eventually(ctx, 90*time.Second, 50*time.Millisecond, func(ctx context.Context) error {
		select {
		case <-s.p.done:
			return fmt.Errorf("exited: %s", tail(s.p.errs(), 2000))
		default:
		}
		return call(ctx, "GET", "http://"+s.addr+"/readyz", nil, nil)
	})
	if err != nil {
		t.Fatalf("webhook server %d not ready: %v", s.starts, err)
	}
}

// newSecret returns a Standard Webhooks secret.
func newSecret() string { return mockphp.NewWebhookSecret() }
