package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/bench"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/loadtest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/labs"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

var apiRequests = flag.Int("api-requests", 8000, "requests of each BenchmarkAPI phase, on each side")

// BenchmarkAPI is the API's target: with 100,000 documents in the store
// (200 patients of 500, a few KB of text each, and eight 1 MiB PDFs), 32
// clients list a patient's documents, search them for a keyword and
// download a 1 MiB document over HTTP on loopback, each request signed in
// with a real access token and answered by the real practice service
// (authorization, audit and all); in the same run, 32 goroutines make the
// store calls the service makes for each, directly; and, as the ceiling,
// the same clients make the same requests of a handler that makes the
// same store calls and answers a recorded answer of the API, doing
// nothing else (the store calls behind HTTP alone). It prints requests/s,
// p50 and p99 of each side, the API's rate as a ratio to the direct one
// and the ceiling's, and what a request costs the machine in the store
// calls, the HTTP around them and the rest of the API, on SQLite and on
// PostgreSQL.
//
//	go test -run '^$' -bench API -benchtime 1x -timeout 30m ./bench/
func BenchmarkAPI(b *testing.B) {
	size := apiSize{
		Seed:    storetest.PracticeSeed{TextBytes: 3 << 10, Large: 8, LargeBytes: 1 << 20},
		Owners:  4,
		Clients: 32, Requests: *apiRequests, Rounds: 8, Warmup: 200,
	}
	run := func(b *testing.B, db benchBackend) {
		for b.Loop() {
			st, err := db.open()
			require.NoError(b, err)
			begin := time.Now()
			w := newAPIWorld(b, st, size)
			seeded := time.Since(begin)
			require.NoError(b, db.settle(context.Background()))
			require.NoError(b, w.verify(context.Background()))
			rep, err := w.run(context.Background(), db.name)
			require.NoError(b, err)
			rep.Seeded = seeded
			// To stdout: a benchmark's log is cut at ten lines.
			fmt.Print(rep.String())
			for _, p := range rep.Phases {
				b.ReportMetric(p.Ratio(), p.Name+"-x")
				b.ReportMetric(float64(p.API.P99.Microseconds())/1000, p.Name+"-p99-ms")
			}
		}
	}
	onBackends(b, run)
}

// benchBackend opens stores of a database for a benchmark.
type benchBackend struct {
	name string
	// open opens a new, empty store.
	open func() (storeurl.Store, error)
	// settle, once the last store opened is filled, waits out what the
	// bulk load left its database to do in the background, so that the
	// sides measured do not take turns sharing the machine with it.
	settle func(ctx context.Context) error
}

// onBackends runs run as a sub-benchmark of each backend.
func onBackends(b *testing.B, run func(b *testing.B, db benchBackend)) {
	b.Run("SQLite", func(b *testing.B) {
		run(b, benchBackend{name: "SQLite",
			open: func() (storeurl.Store, error) {
				return sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "hr.db"), bench.StoreConfig())
			},
			// SQLite does nothing in the background: the writer
			// checkpoints as it commits.
			settle: func(context.Context) error { return nil },
		})
	})
	b.Run("PostgreSQL", func(b *testing.B) {
		var url string
		run(b, benchBackend{name: "PostgreSQL",
			open: func() (storeurl.Store, error) {
				url = pgtest.Database(b)
				return postgres.Open(context.Background(), url, bench.StoreConfig())
			},
			settle: func(ctx context.Context) error { return settlePostgres(ctx, url) },
		})
	})
}

// settlePostgres vacuums and analyzes the database at url and checkpoints
// it: after a bulk load, autovacuum would otherwise work through the new
// rows, and the checkpointer write them, for minutes of the run, on
// whichever side was measured then. The role must be allowed to
// CHECKPOINT (pgtest's is a superuser).
func settlePostgres(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{"VACUUM (ANALYZE)", "CHECKPOINT"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("settle: %s: %w", q, err)
		}
	}
	return nil
}

// TestAPISmall runs BenchmarkAPI's generator on a few documents on SQLite:
// the API answers what the direct calls read, every request of every
// phase is answered 200 and the reads are audited.
func TestAPISmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), bench.StoreConfig())
	require.NoError(t, err)
	const requests, warmup = 40, 4
	w := newAPIWorld(t, st, apiSize{
		Seed:    storetest.PracticeSeed{Patients: 6, Documents: 120, TextBytes: 1 << 10, Large: 2, LargeBytes: 64 << 10},
		Owners:  2,
		Clients: 4, Requests: requests, Rounds: 2, Warmup: warmup,
	})
	require.NoError(t, w.verify(ctx))
	rep, err := w.run(ctx, "SQLite")
	require.NoError(t, err)
	t.Log("\n" + rep.String())
	require.Len(t, rep.Phases, 3)
	for _, p := range rep.Phases {
		assert.Equal(t, requests, p.Direct.Calls, p.Name)
		assert.Equal(t, requests, p.API.Calls, p.Name)
		assert.Equal(t, requests, p.Plain.Calls, p.Name)
		assert.Len(t, p.Rounds, 2, p.Name)
		assert.Positive(t, p.Ratio(), p.Name)
	}

	// Every API request is audited: the list's and the search's as
	// document.list, the download's as document.download.
	require.NoError(t, w.svc.FlushAudit(ctx))
	perPhase := apiVerified + warmup + requests
	for act, want := range map[practice.Action]int{practice.ActionListDocuments: 2 * perPhase, practice.ActionDownload: perPhase} {
		var entries []practice.AuditEntry
		require.NoError(t, st.Read(ctx, func(tx practice.Tx) (err error) {
			entries, err = tx.Audit(ctx, practice.AuditQuery{Action: act, Limit: 500})
			return err
		}))
		assert.Len(t, entries, want, act)
	}
}

// apiSize sizes an API benchmark run.
type apiSize struct {
	Seed storetest.PracticeSeed
	// Owners is the number of dieticians the patients belong to, each
	// signed in once; a client's request carries the token of the
	// patient's dietician.
	Owners int
	// Clients are the concurrent callers, on either side.
	Clients int
	// Requests is the number of calls of each phase on each side, made in
	// Rounds rounds that alternate which side goes first, after Warmup
	// calls of each side.
	Requests, Rounds, Warmup int
}

// apiWorld is the practice service seeded and served over HTTP on
// loopback, with the store it runs on.
type apiWorld struct {
	size   apiSize
	st     storeurl.Store
	svc    *practice.Service
	client *bench.Client
	host   string
	seeded storetest.SeededPractice
	// tokens are the dieticians' access tokens: patient i is
	// seeded.Patients[i], of dietician i%len(tokens).
	tokens []string
	// answers holds, by phase, an answer of the API, which the ceiling's
	// handler (/plain/{phase}/{i}) answers after making call i of the
	// phase (in calls) in the store.
	answers map[string][]byte
	calls   map[string]func(i int) apiCall
}

const (
	apiBase     = "/api/v1"
	apiPassword = "a long bench password"
)

// newAPIWorld seeds st, serves the practice's API over it on loopback and
// signs each dietician in through the API. It closes everything when tb
// ends.
func newAPIWorld(tb testing.TB, st storeurl.Store, size apiSize) *apiWorld {
	tb.Helper()
	ctx := context.Background()
	tb.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.DiscardHandler)

	if size.Seed.Patients <= 0 {
		size.Seed.Patients = storetest.BenchPatients
	}
	if size.Seed.Documents <= 0 {
		size.Seed.Documents = storetest.BenchPatientDocuments
	}
	w := &apiWorld{size: size, st: st, answers: map[string][]byte{}, calls: map[string]func(int) apiCall{}}
	var emails []string
	for i := range size.Owners {
		email := fmt.Sprintf("dietician-%d@example.org", i)
		u, err := practice.Bootstrap(ctx, st, practice.NewUser{Email: email, Name: fmt.Sprintf("Dietician %d", i),
			Role: practice.RoleDietician, Password: apiPassword}, time.Now())
		require.NoError(tb, err)
		size.Seed.Owners = append(size.Seed.Owners, u.ID)
		emails = append(emails, email)
	}
	var err error
	w.seeded, err = storetest.SeedPractice(ctx, st, size.Seed)
	require.NoError(tb, err)

	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	engine, err := connector.New(connector.Config{Store: st, Sources: map[string]connector.Source{"php": php},
		Sinks: map[string]connector.Sink{"carepatron": connectortest.NewSink(connectortest.SinkConfig{})}, Logger: quiet})
	require.NoError(tb, err)
	w.svc, err = practice.New(practice.Config{Store: st, Engine: engine, Provider: "php", ProviderSource: php, Logger: quiet})
	require.NoError(tb, err)
	tb.Cleanup(func() { w.svc.Close() })
	h, err := api.New(api.Config{Service: w.svc, Logger: quiet, BasePath: apiBase})
	require.NoError(tb, err)
	mux := http.NewServeMux()
	mux.Handle(apiBase+"/", h)
	mux.HandleFunc("GET /plain/{phase}/{i}", w.servePlain)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	w.host = strings.TrimPrefix(srv.URL, "http://")
	w.client, err = bench.NewClient(srv.URL+apiBase, size.Clients)
	require.NoError(tb, err)
	tb.Cleanup(w.client.Close)

	signIn := &http.Client{Timeout: 30 * time.Second}
	for _, email := range emails {
		body, err := json.Marshal(api.TokenRequest{Email: email, Password: apiPassword})
		require.NoError(tb, err)
		res, err := signIn.Post(srv.URL+apiBase+"/auth/token", "application/json", bytes.NewReader(body))
		require.NoError(tb, err)
		var tok api.Tokens
		err = json.NewDecoder(res.Body).Decode(&tok)
		res.Body.Close()
		require.NoError(tb, err)
		require.Equal(tb, http.StatusOK, res.StatusCode)
		w.tokens = append(w.tokens, tok.AccessToken)
	}
	return w
}

// apiCall is one request of a phase: a page of a patient's documents
// (text empty for the list, a keyword for the search), or a document's
// content.
type apiCall struct {
	patient  int64
	text     string
	document int64
	token    string
	// analyte, when set, asks for the patient's series of it instead
	// (BenchmarkObservations).
	analyte string
}

// apiPhase is a kind of request measured both ways; call(i) is its i-th
// request, the same either way.
type apiPhase struct {
	name string
	call func(i int) apiCall
}

// phases are the three measured requests: the list and the search of a
// patient's documents, the patients in a fixed random order and the
// keywords in turn, and the download of a large document.
func (w *apiWorld) phases() []apiPhase {
	patients := w.seeded.Patients
	order := rand.New(rand.NewPCG(5, 6)).Perm(len(patients))
	page := func(i int, text string) apiCall {
		k := order[i%len(order)]
		return apiCall{patient: patients[k], text: text, token: w.tokens[k%len(w.tokens)]}
	}
	return []apiPhase{
		{"list", func(i int) apiCall { return page(i, "") }},
		{"search", func(i int) apiCall { return page(i, storetest.BenchWords[i%len(storetest.BenchWords)]) }},
		{"download", func(i int) apiCall {
			k := i % len(w.seeded.Large)
			return apiCall{document: w.seeded.Large[k], token: w.tokens[k%len(w.tokens)]}
		}},
	}
}

// storeAnswer is what the store reads for a call: a page's documents and
// the counts per type, or a document's content.
type storeAnswer struct {
	docs    []practice.Document
	counts  map[connector.DocumentType]int
	content []byte
	obs     []connector.StoredObservation
}

// direct makes the store calls the service makes for c, in one read
// transaction as the service does: the page of documents (one row more
// than the page, newest first) and their counts, or the content. What
// the service does beside them (reading the patient or document for the
// policy, the audit entry) is the API's cost.
func (w *apiWorld) direct(ctx context.Context, c apiCall) (storeAnswer, error) {
	var a storeAnswer
	err := w.st.Read(ctx, func(tx practice.Tx) (err error) {
		if c.analyte != "" {
			an, _ := labs.ByID(c.analyte)
			a.obs, err = tx.Observations(ctx, practice.ObservationQuery{PatientID: c.patient, Codes: an.Codes,
				Page: practice.Page{Limit: seriesLimit + 1}})
			return err
		}
		if c.document != 0 {
			r, err := tx.DocumentContent(ctx, c.document)
			if err != nil {
				return err
			}
			a.content, err = io.ReadAll(r)
			return err
		}
		q := practice.DocumentQuery{PatientID: c.patient, Text: c.text, Sort: practice.SortDate,
			Page: practice.Page{Limit: practice.DefaultLimit + 1}}
		a.docs, a.counts, err = tx.DocumentsCounted(ctx, q)
		return err
	})
	return a, err
}

// http makes c over HTTP and returns the answer's body, which must be a
// 200.
func (w *apiWorld) http(ctx context.Context, c apiCall) ([]byte, error) {
	path := fmt.Sprintf("%s/documents/%d/content", apiBase, c.document)
	if c.analyte != "" {
		path = fmt.Sprintf("%s/patients/%d/observations?analyte=%s&limit=%d", apiBase, c.patient, c.analyte, seriesLimit)
	} else if c.document == 0 {
		path = fmt.Sprintf("%s/patients/%d/documents", apiBase, c.patient)
		if c.text != "" {
			path += "?q=" + url.QueryEscape(c.text)
		}
	}
	code, body, err := w.get(ctx, path, c.token)
	switch {
	case err != nil:
		return nil, err
	case code != http.StatusOK:
		return nil, fmt.Errorf("%s: %d %s: %.300s", path, code, http.StatusText(code), body)
	case c.analyte == "" && c.document != 0 && len(body) != w.size.Seed.LargeBytes:
		return nil, fmt.Errorf("%s: %d bytes, not %d", path, len(body), w.size.Seed.LargeBytes)
	}
	return body, nil
}

// get sends a GET of path with the bearer token, as every request of the
// HTTP sides is sent, and returns the answer's status and body.
func (w *apiWorld) get(ctx context.Context, path, token string) (int, []byte, error) {
	raw := "GET " + path + " HTTP/1.1\r\nHost: " + w.host + "\r\nAuthorization: Bearer " + token +
		"\r\nUser-Agent: bench\r\n\r\n"
	return w.client.Do(ctx, []byte(raw))
}

// plainHTTP makes call i of phase, headers and all, of the ceiling's
// handler.
func (w *apiWorld) plainHTTP(ctx context.Context, phase string, i int) error {
	code, body, err := w.get(ctx, "/plain/"+phase+"/"+strconv.Itoa(i), w.calls[phase](i).token)
	switch {
	case err != nil:
		return err
	case code != http.StatusOK || len(body) != len(w.answers[phase]):
		return fmt.Errorf("plain %s %d: %d, %.300s", phase, i, code, body)
	}
	return nil
}

// servePlain makes call {i} of {phase} in the store, as the direct side
// does, and answers the phase's recorded answer as the API sends a page:
// with its type and length, in one write; a download it streams from the
// store, as the API does. It is the ceiling: the store calls behind HTTP,
// and nothing else.
func (w *apiWorld) servePlain(rw http.ResponseWriter, r *http.Request) {
	phase := r.PathValue("phase")
	body, ok := w.answers[phase]
	i, err := strconv.Atoi(r.PathValue("i"))
	if !ok || err != nil {
		http.NotFound(rw, r)
		return
	}
	c, h := w.calls[phase](i), rw.Header()
	if c.document != 0 {
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		err = w.st.Read(r.Context(), func(tx practice.Tx) error {
			content, err := tx.DocumentContent(r.Context(), c.document)
			if err == nil {
				_, err = io.Copy(rw, content)
			}
			return err
		})
		if err != nil {
			panic(http.ErrAbortHandler) // the client sees a cut answer
		}
		return
	}
	if _, err := w.direct(r.Context(), c); err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = rw.Write(body)
}

// verify checks, on a few calls of each phase, that the API answers what
// the direct calls read: both sides do the same work. It records each
// phase's first answer for the ceiling's handler.
func (w *apiWorld) verify(ctx context.Context) error { return w.verifyPhases(ctx, w.phases()) }

// verifyPhases is verify for the given phases.
func (w *apiWorld) verifyPhases(ctx context.Context, phases []apiPhase) error {
	for _, ph := range phases {
		w.calls[ph.name] = ph.call
		for i := range apiVerified {
			c := ph.call(i)
			body, err := w.http(ctx, c)
			if err != nil {
				return err
			}
			want, err := w.direct(ctx, c)
			if err != nil {
				return err
			}
			if err := want.same(body); err != nil {
				return fmt.Errorf("%s %d: %w", ph.name, i, err)
			}
			if i == 0 {
				w.answers[ph.name] = body
			}
		}
	}
	return nil
}

// apiVerified is how many calls of each phase verify makes.
const apiVerified = 4

// same compares an API answer with a.
func (a storeAnswer) same(body []byte) error {
	if a.obs != nil {
		var p api.ObservationPage
		if err := json.Unmarshal(body, &p); err != nil {
			return fmt.Errorf("observation page: %w", err)
		}
		var got, want []int64
		for _, o := range p.Items {
			got = append(got, o.Id)
		}
		for _, o := range a.obs[:min(len(a.obs), seriesLimit)] {
			want = append(want, o.ID)
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("the API listed %d observations, the store %d", len(got), len(want))
		}
		return nil
	}
	if a.docs == nil {
		if !bytes.Equal(body, a.content) {
			return errors.New("the download differs from the stored content")
		}
		return nil
	}
	var p api.DocumentPage
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("document page: %w", err)
	}
	var got, want []int64
	for _, d := range p.Items {
		got = append(got, d.Id)
	}
	for _, d := range a.docs[:min(len(a.docs), practice.DefaultLimit)] {
		want = append(want, d.ID)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("the API listed %v, the store %v", got, want)
	}
	counts := api.DocumentCounts{LabResult: a.counts[connector.DocumentLabResult], Other: a.counts[connector.DocumentOther],
		PhysicalAssessment: a.counts[connector.DocumentPhysicalAssessment], ProgressNote: a.counts[connector.DocumentProgressNote]}
	if p.Counts != counts {
		return fmt.Errorf("the API counted %+v, the store %+v", p.Counts, counts)
	}
	return nil
}

// run measures each phase: a warm-up of each side, then rounds of
// Requests/Rounds calls a side, the side going first in turn. The sides
// are the direct calls, the API, and the ceiling: the same client making
// the same requests of a handler that makes the direct side's store calls
// and answers a recorded answer of the API, which is the most any HTTP
// API over these store calls could reach here. The phases must have been
// verified.
func (w *apiWorld) run(ctx context.Context, backend string) (apiReport, error) {
	return w.runPhases(ctx, backend, w.phases())
}

// runPhases is run for the given phases.
func (w *apiWorld) runPhases(ctx context.Context, backend string, phases []apiPhase) (apiReport, error) {
	rep := apiReport{Backend: backend, Size: w.size}
	per := w.size.Requests / w.size.Rounds
	for _, ph := range phases {
		sides := [3]func(i int) error{
			func(i int) error { _, err := w.direct(ctx, ph.call(i)); return err },
			func(i int) error { _, err := w.http(ctx, ph.call(i)); return err },
			func(i int) error { return w.plainHTTP(ctx, ph.name, i) },
		}
		measure := func(side, from, n int) (loadtest.Result, error) {
			res, err := loadtest.Run(n, w.size.Clients, func(i int) error { return sides[side](from + i) })
			if err != nil {
				return res, fmt.Errorf("%s, %s: %w", ph.name, [3]string{"direct", "API", "plain HTTP"}[side], err)
			}
			return res, nil
		}
		for side := range sides {
			if _, err := measure(side, 0, w.size.Warmup); err != nil {
				return rep, err
			}
		}
		res := apiPhaseResult{Name: ph.name}
		var direct, viaAPI, plain []loadtest.Result
		for r := range w.size.Rounds {
			var round [len(sides)]loadtest.Result
			for k := range sides {
				side := (r + k) % len(sides)
				var err error
				if round[side], err = measure(side, w.size.Warmup+r*per, per); err != nil {
					return rep, err
				}
			}
			direct, viaAPI, plain = append(direct, round[0]), append(viaAPI, round[1]), append(plain, round[2])
			res.Rounds = append(res.Rounds, round[1].Rate()/round[0].Rate())
		}
		res.Direct, res.API, res.Plain = loadtest.Merge(direct...), loadtest.Merge(viaAPI...), loadtest.Merge(plain...)
		rep.Phases = append(rep.Phases, res)
	}
	return rep, nil
}

// apiReport is what an API benchmark run measured.
type apiReport struct {
	Backend string
	Size    apiSize
	Seeded  time.Duration
	Phases  []apiPhaseResult
}

// apiPhaseResult is one phase measured each way.
type apiPhaseResult struct {
	Name        string
	Direct, API loadtest.Result
	// Plain is the ceiling: the store calls behind a handler that does
	// nothing else.
	Plain loadtest.Result
	// Rounds are each round's ratio.
	Rounds []float64
}

// Ratio is the API's rate as a fraction of the direct calls'.
func (p apiPhaseResult) Ratio() float64 { return p.API.Rate() / p.Direct.Rate() }

// Ceiling is the Ratio the ceiling's handler reached: what an HTTP API
// whose only work were the store calls would.
func (p apiPhaseResult) Ceiling() float64 { return p.Plain.Rate() / p.Direct.Rate() }

// costs split the machine's time a request of the API takes at full load
// (the inverse of its rate) into the store calls (the direct side's), the
// HTTP around them (what the ceiling's handler adds to them) and the rest
// of the API (what it adds to the ceiling's).
func (p apiPhaseResult) costs() (direct, http, own time.Duration) {
	per := func(r loadtest.Result) time.Duration { return time.Duration(float64(time.Second) / r.Rate()) }
	return per(p.Direct), per(p.Plain) - per(p.Direct), per(p.API) - per(p.Plain)
}

// apiTargets are the issue's: the API's rate at least 0.8 of the direct
// calls' for the list and the search, and their p99 on PostgreSQL.
var apiTargets = map[string]struct {
	ratio float64
	p99   time.Duration
}{
	"list":   {0.8, 50 * time.Millisecond},
	"search": {0.8, 150 * time.Millisecond},
}

func (r apiReport) String() string {
	var b strings.Builder
	s := r.Size.Seed
	fmt.Fprintf(&b, "API against the same store calls, %s: %d patients × %d documents (%d B of text each) and %d of %d KiB, "+
		"%d dieticians; %d clients, %d requests a phase and side in %d rounds",
		r.Backend, s.Patients, s.Documents, s.TextBytes, s.Large, s.LargeBytes>>10, r.Size.Owners,
		r.Size.Clients, r.Size.Requests, r.Size.Rounds)
	if r.Seeded > 0 {
		fmt.Fprintf(&b, " (seeded in %s)", r.Seeded.Round(time.Second))
	}
	b.WriteString("\n")
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "  %-8s direct %s\n", p.Name, p.Direct)
		fmt.Fprintf(&b, "  %-8s API    %s\n", "", p.API)
		fmt.Fprintf(&b, "  %-8s plain  %s\n", "", p.Plain)
		var rounds []string
		for _, x := range p.Rounds {
			rounds = append(rounds, strconv.FormatFloat(x, 'f', 2, 64))
		}
		fmt.Fprintf(&b, "  %-8s API/direct %.2f (rounds %s); p50 ×%.2f, p99 ×%.2f", "", p.Ratio(), strings.Join(rounds, " "),
			p.API.P50.Seconds()/p.Direct.P50.Seconds(), p.API.P99.Seconds()/p.Direct.P99.Seconds())
		if t, ok := apiTargets[p.Name]; ok {
			fmt.Fprintf(&b, "; ratio ≥ %.1f %s, p99 < %s %s", t.ratio, met(p.Ratio() >= t.ratio), t.p99, met(p.API.P99 < t.p99))
		}
		direct, http, own := p.costs()
		fmt.Fprintf(&b, "\n  %-8s ceiling (the store calls behind a plain handler)/direct %.2f, API/ceiling %.2f; "+
			"a request takes the machine %s in the store calls, %s in the HTTP around them, %s in the rest of the API\n",
			"", p.Ceiling(), p.API.Rate()/p.Plain.Rate(),
			direct.Round(time.Microsecond), http.Round(time.Microsecond), own.Round(time.Microsecond))
	}
	return b.String()
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
