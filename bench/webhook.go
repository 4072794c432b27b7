package bench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the ceiling's and the counts' database/sql driver

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/loadtest"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// Source is the source the generated events belong to.
const Source = "php"

// Secret signs the generated events (Standard Webhooks "whsec_" + base64).
const Secret = "whsec_YmVuY2htYXJrLXNpZ25pbmctc2VjcmV0LTAxMjM0NTY3ODk="

// Request is one signed Standard Webhooks request, built before a run so
// that the run measures sending, not signing.
type Request struct {
	ID     string
	Body   []byte
	Header http.Header
	// Resend marks a request that repeats an event already sent: same
	// webhook-id and body, signed again at a later timestamp, as a sender
	// that retries does.
	Resend bool
}

// Requests builds n requests of run whose every dupEvery-th one (when
// dupEvery > 0) resends an event sent earlier in the run, chosen at random
// (seeded by the run's name, so a run is repeatable). Each event is a
// resource.updated ChangeEvent of its own DocumentReference at version 1.
func Requests(run string, n, dupEvery int, now time.Time) ([]Request, error) {
	seed := fnv.New64a()
	seed.Write([]byte(run))
	rng := rand.New(rand.NewPCG(seed.Sum64(), 0x5eed))
	reqs := make([]Request, 0, n)
	var unique []int // indexes in reqs of the first sends
	for i := range n {
		if dupEvery > 0 && (i+1)%dupEvery == 0 && len(unique) > 0 {
			first := reqs[unique[rng.IntN(len(unique))]]
			r, err := signed(first.ID, first.Body, now.Add(time.Second))
			if err != nil {
				return nil, err
			}
			r.Resend = true
			reqs = append(reqs, r)
			continue
		}
		k := len(unique)
		body, err := json.Marshal(webhook.ChangeEvent{
			Type:      webhook.EventResourceUpdated,
			Timestamp: now.UTC().Truncate(time.Millisecond),
			Data: webhook.ChangeData{
				ResourceType: "DocumentReference",
				ID:           DocumentID(run, k),
				VersionID:    "1",
				Patient:      fmt.Sprintf("Patient/p-%05d", k%10000),
				LastUpdated:  now.UTC().Truncate(time.Millisecond),
			},
		})
		if err != nil {
			return nil, err
		}
		r, err := signed(EventID(run, k), body, now)
		if err != nil {
			return nil, err
		}
		unique = append(unique, len(reqs))
		reqs = append(reqs, r)
	}
	return reqs, nil
}

// EventID is the webhook-id of the k-th event of run.
func EventID(run string, k int) string { return fmt.Sprintf("msg_%s_%08d_2f1c9a7e4b", run, k) }

// documentPattern matches, in LIKE, the document ids of run's events;
// run names here hold no wildcard.
func documentPattern(run string) string { return "doc-" + run + "-%" }

// DocumentID is the resource id the k-th event of run is about.
func DocumentID(run string, k int) string { return fmt.Sprintf("doc-%s-%08d", run, k) }

func signed(id string, body []byte, ts time.Time) (Request, error) {
	sig, err := webhook.Sign(Secret, id, ts, body)
	if err != nil {
		return Request{}, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return Request{ID: id, Body: body, Header: h}, nil
}

// Unique counts the requests that are not resends.
func Unique(reqs []Request) int {
	n := 0
	for _, r := range reqs {
		if !r.Resend {
			n++
		}
	}
	return n
}

// Server serves a handler at /webhooks/{source} on a free port of
// 127.0.0.1.
type Server struct {
	URL string // of source Source
	srv *http.Server
	l   net.Listener
}

// Serve starts serving h; Close stops it.
func Serve(h http.Handler) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/{source}", h)
	s := &Server{URL: "http://" + l.Addr().String() + "/webhooks/" + Source, l: l,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}}
	go s.srv.Serve(l) //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Bare is the HTTP ceiling: it reads the body and answers 202.
func Bare() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// Client is the load generator's HTTP/1.1 client: conns keep-alive
// connections to one server, each used by one request at a time. It writes
// each request's bytes with one write and parses the answer with
// http.ReadResponse, without the goroutines and channels per request of
// http.Transport, so that the generator, which shares the machine's cores
// with the server it measures, takes as little of them as it can.
type Client struct {
	url   *url.URL
	conns chan *clientConn
}

type clientConn struct {
	c  net.Conn
	br *bufio.Reader
}

// NewClient returns a client that posts to target (an http:// URL) over
// up to conns connections.
func NewClient(target string, conns int) (*Client, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("bench client: %q is not an http:// URL", target)
	}
	c := &Client{url: u, conns: make(chan *clientConn, conns)}
	for range conns {
		c.conns <- nil // a free slot, dialled when first used
	}
	return c, nil
}

// Raw renders r as the bytes of an HTTP/1.1 POST to the client's URL.
func (c *Client) Raw(r Request) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, c.url.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	maps.Copy(req.Header, r.Header)
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Close waits for the requests in flight and closes the connections.
func (c *Client) Close() {
	for range cap(c.conns) {
		if cc := <-c.conns; cc != nil {
			cc.c.Close()
		}
	}
}

// Do sends one request, whose bytes are raw (see Raw), and returns
// the answer's status code and body.
func (c *Client) Do(ctx context.Context, raw []byte) (int, []byte, error) {
	var cc *clientConn
	select {
	case cc = <-c.conns:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	code, body, keep, err := c.roundTrip(ctx, &cc, raw)
	if err != nil || !keep {
		if cc != nil {
			cc.c.Close()
		}
		cc = nil
	}
	c.conns <- cc
	return code, body, err
}

func (c *Client) roundTrip(ctx context.Context, cc **clientConn, raw []byte) (int, []byte, bool, error) {
	if *cc == nil {
		d := net.Dialer{Timeout: 5 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", c.url.Host)
		if err != nil {
			return 0, nil, false, err
		}
		*cc = &clientConn{c: conn, br: bufio.NewReader(conn)}
	}
	conn := *cc
	if err := conn.c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, nil, false, err
	}
	if _, err := conn.c.Write(raw); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(conn.br, nil)
	if err != nil {
		return 0, nil, false, err
	}
	body, err := readBody(resp)
	resp.Body.Close()
	if err != nil {
		return 0, nil, false, err
	}
	return resp.StatusCode, body, !resp.Close, nil
}

// readBody reads an answer's body whole: into one buffer of its length
// when the answer says it, rather than growing one as io.ReadAll does,
// which for a large download (the API benchmark's 1 MiB) costs the
// generator as much CPU as the server's read of it from the store.
func readBody(resp *http.Response) ([]byte, error) {
	if resp.ContentLength <= 0 || resp.ContentLength > maxPresized {
		return io.ReadAll(resp.Body)
	}
	body := make([]byte, resp.ContentLength)
	_, err := io.ReadFull(resp.Body, body)
	return body, err
}

// maxPresized bounds the buffer readBody makes from a Content-Length.
const maxPresized = 64 << 20

// Sent is what a load run measured and was answered.
type Sent struct {
	loadtest.Result
	// Accepted counts 202 answers (the event was committed), Duplicate
	// 200 answers (the event id was seen before).
	Accepted, Duplicate int
}

// Send posts reqs from concurrency goroutines sharing c, and stops at the
// first answer other than 200 or 202. The requests' bytes are rendered
// before the clock starts.
func Send(ctx context.Context, c *Client, reqs []Request, concurrency int) (Sent, error) {
	raws := make([][]byte, len(reqs))
	for i, r := range reqs {
		var err error
		if raws[i], err = c.Raw(r); err != nil {
			return Sent{}, err
		}
	}
	return run(len(reqs), concurrency, func(i int) (bool, error) {
		code, body, err := c.Do(ctx, raws[i])
		switch {
		case err != nil:
			return false, fmt.Errorf("event %s: %w", reqs[i].ID, err)
		case code == http.StatusAccepted, code == http.StatusOK:
			return code == http.StatusOK, nil
		}
		return false, fmt.Errorf("event %s: %d %s: %s", reqs[i].ID, code, http.StatusText(code), body)
	})
}

// run is loadtest.Run of a call that reports whether its event was a
// duplicate, counting the answers.
func run(n, concurrency int, call func(i int) (duplicate bool, err error)) (Sent, error) {
	var accepted, duplicate atomic.Int64
	res, err := loadtest.Run(n, concurrency, func(i int) error {
		dup, err := call(i)
		switch {
		case err != nil:
			return err
		case dup:
			duplicate.Add(1)
		default:
			accepted.Add(1)
		}
		return nil
	})
	if err != nil {
		return Sent{}, err
	}
	return Sent{Result: res, Accepted: int(accepted.Load()), Duplicate: int(duplicate.Load())}, nil
}

// Ingest hands the events of reqs, decoded as the receiver decodes them
// (before the run), to ing from concurrency callers.
func Ingest(ctx context.Context, ing storeurl.Ingester, reqs []Request, concurrency int) (Sent, error) {
	events := make([]connector.Event, len(reqs))
	for i, r := range reqs {
		ev, _, err := webhook.ParseChangeEvent(r.Body)
		if err != nil {
			return Sent{}, err
		}
		events[i] = connector.Event{ID: r.ID, Source: Source, Action: connector.ActionWebhook,
			Changes: []connector.Change{ev.Change(Source)}}
	}
	return run(len(events), concurrency, func(i int) (bool, error) {
		res, err := ing.Ingest(ctx, events[i])
		return res.Duplicate, err
	})
}

// Counts is what a run left in the store's tables.
type Counts struct {
	// Events counts the run's rows of ingested_events, OpKeys its pull ops
	// in op_keys.
	Events, OpKeys int
	// Jobs counts the River jobs carrying the run's pull ops, JobOps the
	// ops they carry (a job carries a batch of ops).
	Jobs, JobOps int
}

// Backend is a store under test, with the database's ceiling measured
// beside it.
type Backend struct {
	Name  string
	Store storeurl.Store
	// Ceiling runs n single-row INSERT … ON CONFLICT DO NOTHING
	// transactions of an event row from concurrency callers.
	Ceiling func(ctx context.Context, run string, n, concurrency int) (loadtest.Result, error)
	// Count reads what the store committed for the first events events
	// of run.
	Count func(ctx context.Context, run string, events int) (Counts, error)
	close func() error
}

// Close closes the store and the ceiling's database.
func (b *Backend) Close() error { return b.close() }

// StoreConfig is the store configuration of a benchmark: no workers run
// (Start is never called), logs are discarded.
func StoreConfig() store.Config {
	return store.Config{Logger: slog.New(slog.DiscardHandler)}
}

// The ceiling's table: the event row ingested_events records.
const ceilingTable = `CREATE TABLE ceiling_events (source TEXT NOT NULL, event_id TEXT NOT NULL,
	received_at %s NOT NULL, PRIMARY KEY (source, event_id))`

const ceilingInsert = `INSERT INTO ceiling_events (source, event_id, received_at) VALUES ($1, $2, $3)
	ON CONFLICT (source, event_id) DO NOTHING`

// OpenPostgres opens the store on the (empty) database at dbURL, and a pool
// of maxConns connections to the same database for the ceiling, which runs
// in a table of its own.
func OpenPostgres(ctx context.Context, dbURL string, maxConns int) (*Backend, error) {
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	s, err := postgres.Open(ctx, dbURL+sep+"pool_max_conns="+strconv.Itoa(maxConns), StoreConfig())
	if err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		s.Close()
		return nil, err
	}
	pcfg.MaxConns = int32(maxConns)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(ceilingTable, "timestamptz")); err != nil {
		pool.Close()
		s.Close()
		return nil, err
	}
	return &Backend{
		Name:  "PostgreSQL",
		Store: s,
		Ceiling: func(ctx context.Context, run string, n, concurrency int) (loadtest.Result, error) {
			return loadtest.Run(n, concurrency, func(i int) error {
				_, err := pool.Exec(ctx, ceilingInsert, Source, EventID(run, i), time.Now().UTC())
				return err
			})
		},
		Count: func(ctx context.Context, run string, events int) (Counts, error) {
			var c Counts
			err := errors.Join(
				pool.QueryRow(ctx, `SELECT count(*) FROM ingested_events WHERE source = $1 AND event_id LIKE $2`,
					Source, "msg\\_"+run+"\\_%").Scan(&c.Events),
				countKeys(ctx, func(ctx context.Context) (keyRows, error) {
					rows, err := pool.Query(ctx, `SELECT key FROM op_keys`)
					return rows, err
				}, run, events, &c.OpKeys),
				pool.QueryRow(ctx, `SELECT count(DISTINCT j.id), count(*) FROM river_job j,
					jsonb_array_elements(j.args->'ops') op WHERE j.kind = 'hr_pull' AND op->'ref'->>'id' LIKE $1`,
					documentPattern(run)).Scan(&c.Jobs, &c.JobOps),
			)
			return c, err
		},
		close: func() error { pool.Close(); return s.Close() },
	}, nil
}

// OpenSQLite opens the store on a new database file in dir, and the
// ceiling's database as the store opens its own (WAL, synchronous NORMAL,
// immediate transactions, one connection) in another file of dir.
func OpenSQLite(ctx context.Context, dir string) (*Backend, error) {
	path := filepath.Join(dir, "hr.db")
	s, err := sqlite.Open(ctx, path, StoreConfig())
	if err != nil {
		return nil, err
	}
	ceiling, err := openSQLite(filepath.Join(dir, "ceiling.db"))
	if err != nil {
		s.Close()
		return nil, err
	}
	if _, err := ceiling.ExecContext(ctx, fmt.Sprintf(ceilingTable, "DATETIME")); err != nil {
		ceiling.Close()
		s.Close()
		return nil, err
	}
	return &Backend{
		Name:  "SQLite",
		Store: s,
		Ceiling: func(ctx context.Context, run string, n, concurrency int) (loadtest.Result, error) {
			return loadtest.Run(n, concurrency, func(i int) error {
				_, err := ceiling.ExecContext(ctx, ceilingInsert, Source, EventID(run, i), time.Now().UTC())
				return err
			})
		},
		// The counts are read on a connection of their own: the store's
		// one connection is its own, and WAL lets a reader in beside it.
		Count: func(ctx context.Context, run string, events int) (Counts, error) {
			db, err := openSQLite(path)
			if err != nil {
				return Counts{}, err
			}
			defer db.Close()
			var c Counts
			err = errors.Join(
				db.QueryRowContext(ctx, `SELECT count(*) FROM ingested_events WHERE source = $1 AND event_id LIKE $2 ESCAPE '\'`,
					Source, "msg\\_"+run+"\\_%").Scan(&c.Events),
				countKeys(ctx, func(ctx context.Context) (keyRows, error) {
					rows, err := db.QueryContext(ctx, `SELECT key FROM op_keys`)
					return sqlRows{rows}, err
				}, run, events, &c.OpKeys),
				db.QueryRowContext(ctx, `SELECT count(DISTINCT j.id), count(*) FROM river_job j,
					json_each(j.args, '$.ops') op WHERE j.kind = 'hr_pull' AND json_extract(op.value, '$.ref.id') LIKE $1 ESCAPE '\'`,
					documentPattern(run)).Scan(&c.Jobs, &c.JobOps),
			)
			return c, err
		},
		close: func() error { return errors.Join(ceiling.Close(), s.Close()) },
	}, nil
}

func openSQLite(path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// WebhookConfig sizes a webhook ingest run.
type WebhookConfig struct {
	// Requests in all, resends included. Default 50,000.
	Requests int
	// DupEvery: every DupEvery-th request resends an earlier event.
	// Default 10 (10% resent).
	DupEvery int
	// Concurrency is the number of connections and callers. Default 64.
	Concurrency int
	// Warmup requests go through each path before the measured runs.
	// Default 2,000; negative: none.
	Warmup int
	// Rounds split the requests; each round runs the database ceiling
	// and the receiver on its share, in turn. Default 5.
	Rounds int
}

func (c *WebhookConfig) defaults() {
	if c.Requests <= 0 {
		c.Requests = 50000
	}
	if c.DupEvery <= 0 {
		c.DupEvery = 10
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.Warmup == 0 {
		c.Warmup = 2000
	}
	if c.Rounds <= 0 {
		c.Rounds = 5
	}
}

// WebhookReport is what one webhook ingest run measured.
type WebhookReport struct {
	Backend string
	Config  WebhookConfig
	Unique  int // events among the requests; the rest are resends
	// Rounds alternate the database ceiling and the receiver, each on
	// a share of the requests, so that both meet the same drift of the
	// machine and the database (checkpoints, tables growing, other
	// load); Ceiling and Receiver merge them.
	Rounds     []Round
	Ceiling    loadtest.Result
	Receiver   Sent
	BareBefore loadtest.Result
	BareAfter  loadtest.Result
	Counts     Counts
	// Direct is the store's grouped Ingester called by as many callers
	// with the same events (another run's ids), without HTTP: what the
	// receiver adds to the store's own cost. DirectCounts is what it left.
	Direct       Sent
	DirectCounts Counts
	LoadAverage  string // /proc/loadavg when the run ended, if readable
}

// Round is one round's database ceiling and receiver.
type Round struct {
	Ceiling  loadtest.Result
	Receiver Sent
}

// Ratio is the receiver's rate over the database ceiling's in the round.
func (r Round) Ratio() float64 { return r.Receiver.Rate() / r.Ceiling.Rate() }

// DBCeiling is the database ceiling's rate over all rounds.
func (r *WebhookReport) DBCeiling() float64 { return r.Ceiling.Rate() }

// MedianRatio is the median of the rounds' ratios of the receiver's rate
// over the database ceiling's.
func (r *WebhookReport) MedianRatio() float64 {
	ratios := make([]float64, len(r.Rounds))
	for i, rd := range r.Rounds {
		ratios[i] = rd.Ratio()
	}
	slices.Sort(ratios)
	if n := len(ratios); n > 0 {
		return (ratios[(n-1)/2] + ratios[n/2]) / 2
	}
	return 0
}

// BareCeiling is the mean of the bare handler's rates.
func (r *WebhookReport) BareCeiling() float64 { return (r.BareBefore.Rate() + r.BareAfter.Rate()) / 2 }

// Check reports whether the answers and the store hold exactly one event
// and one pull op per unique event sent.
func (r *WebhookReport) Check() error {
	var errs []error
	want := func(what string, got, want int) {
		if got != want {
			errs = append(errs, fmt.Errorf("%s: %d, want %d", what, got, want))
		}
	}
	resent := r.Config.Requests - r.Unique
	want("202 answers", r.Receiver.Accepted, r.Unique)
	want("200 (duplicate) answers", r.Receiver.Duplicate, resent)
	want("ingested_events rows", r.Counts.Events, r.Unique)
	want("op_keys rows", r.Counts.OpKeys, r.Unique)
	want("pull ops in River jobs", r.Counts.JobOps, r.Unique)
	if r.Counts.Jobs == 0 && r.Unique > 0 {
		errs = append(errs, errors.New("no River job"))
	}
	want("direct: new events", r.Direct.Accepted, r.Unique)
	want("direct: duplicates", r.Direct.Duplicate, resent)
	want("direct: ingested_events rows", r.DirectCounts.Events, r.Unique)
	want("direct: op_keys rows", r.DirectCounts.OpKeys, r.Unique)
	want("direct: pull ops in River jobs", r.DirectCounts.JobOps, r.Unique)
	return errors.Join(errs...)
}

func (r *WebhookReport) String() string {
	var b strings.Builder
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(&b, "%s: %d signed Standard Webhooks requests (%d events, %d resent), %d connections on loopback\n",
		r.Backend, r.Config.Requests, r.Unique, r.Config.Requests-r.Unique, r.Config.Concurrency)
	fmt.Fprintf(&b, "  bare http.Handler (read body, 202), before  %s\n", r.BareBefore)
	for i, rd := range r.Rounds {
		fmt.Fprintf(&b, "  round %d: database ceiling (1 INSERT per tx) %s\n", i+1, rd.Ceiling)
		fmt.Fprintf(&b, "           webhook.Receiver + Store.Ingester  %s  = %.2f x\n", rd.Receiver.Result, rd.Ratio())
	}
	fmt.Fprintf(&b, "  database ceiling, all rounds                %s\n", r.Ceiling)
	fmt.Fprintf(&b, "  webhook.Receiver + Store.Ingester, all      %s\n", r.Receiver.Result)
	fmt.Fprintf(&b, "  Store.Ingester called directly (no HTTP)    %s\n", r.Direct.Result)
	fmt.Fprintf(&b, "  bare http.Handler (read body, 202), after   %s\n", r.BareAfter)
	fmt.Fprintf(&b, "  receiver %.0f events/s (requests/s), p50 %.2f ms, p99 %.2f ms\n",
		r.Receiver.Rate(), ms(r.Receiver.P50), ms(r.Receiver.P99))
	fmt.Fprintf(&b, "  = %.2f x bare handler (%.0f/s), %.2f x database ceiling (%.0f/s); median of the rounds %.2f x\n",
		r.Receiver.Rate()/r.BareCeiling(), r.BareCeiling(), r.Receiver.Rate()/r.DBCeiling(), r.DBCeiling(), r.MedianRatio())
	resent := r.Config.Requests - r.Unique
	check := "OK"
	if err := r.Check(); err != nil {
		check = "MISMATCH: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	fmt.Fprintf(&b, "  (direct Store.Ingester: %.2f x database ceiling)\n", r.Direct.Rate()/r.DBCeiling())
	fmt.Fprintf(&b, "  counts: 202 %d, 200 %d; ingested_events %d, op_keys %d, River jobs %d carrying %d pull ops; want %d, %d resent: %s\n",
		r.Receiver.Accepted, r.Receiver.Duplicate, r.Counts.Events, r.Counts.OpKeys, r.Counts.Jobs, r.Counts.JobOps, r.Unique, resent, check)
	fmt.Fprintf(&b, "  direct counts: new %d, duplicate %d; ingested_events %d, op_keys %d, River jobs %d carrying %d pull ops\n",
		r.Direct.Accepted, r.Direct.Duplicate, r.DirectCounts.Events, r.DirectCounts.OpKeys, r.DirectCounts.Jobs, r.DirectCounts.JobOps)
	if r.LoadAverage != "" {
		fmt.Fprintf(&b, "  load average at the end: %s\n", r.LoadAverage)
	}
	return b.String()
}

// RunWebhook measures, on b, the bare handler; the database ceiling and
// the webhook receiver over the store's grouped Ingester, in rounds that
// alternate which runs first; the store's Ingester without HTTP; the bare
// handler again; then counts what the receiver committed. The receiver's
// engine has an in-memory Source that is never called: no worker runs, so
// the jobs stay queued to be counted.
func RunWebhook(ctx context.Context, b *Backend, cfg WebhookConfig) (*WebhookReport, error) {
	cfg.defaults()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: Source})
	e, err := connector.New(connector.Config{Store: b.Store, Sources: map[string]connector.Source{Source: src},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	rcv, err := webhook.New(storeurl.NewIngester(b.Store, e), webhook.Config{
		Source: Source, Format: webhook.FormatStandardWebhooks, Secrets: []string{Secret},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	reqs, err := Requests("r", cfg.Requests, cfg.DupEvery, now)
	if err != nil {
		return nil, err
	}
	rep := &WebhookReport{Backend: b.Name, Config: cfg, Unique: Unique(reqs)}

	bareSrv, err := Serve(Bare())
	if err != nil {
		return nil, err
	}
	defer bareSrv.Close()
	rcvSrv, err := Serve(webhook.BySource(rcv))
	if err != nil {
		return nil, err
	}
	defer rcvSrv.Close()
	bareC, err := NewClient(bareSrv.URL, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	defer bareC.Close()
	rcvC, err := NewClient(rcvSrv.URL, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	defer rcvC.Close()

	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %s: %w", b.Name, what, err)
		}
		return nil
	}
	if cfg.Warmup > 0 {
		warm, err := Requests("w", cfg.Warmup, cfg.DupEvery, now)
		if err != nil {
			return nil, err
		}
		if _, err := b.Ceiling(ctx, "w", cfg.Warmup, cfg.Concurrency); err != nil {
			return nil, step("warm-up ceiling", err)
		}
		if _, err := Send(ctx, bareC, warm, cfg.Concurrency); err != nil {
			return nil, step("warm-up bare handler", err)
		}
		if _, err := Send(ctx, rcvC, warm, cfg.Concurrency); err != nil {
			return nil, step("warm-up receiver", err)
		}
	}
	var s Sent
	if s, err = Send(ctx, bareC, reqs, cfg.Concurrency); err != nil {
		return nil, step("bare handler", err)
	}
	rep.BareBefore = s.Result
	var ceilings, receivers []loadtest.Result
	for i := range cfg.Rounds {
		var rd Round
		lo, hi := i*len(reqs)/cfg.Rounds, (i+1)*len(reqs)/cfg.Rounds
		ceiling := func() (err error) {
			rd.Ceiling, err = b.Ceiling(ctx, fmt.Sprintf("c%d", i), hi-lo, cfg.Concurrency)
			return step("database ceiling", err)
		}
		receiver := func() (err error) {
			rd.Receiver, err = Send(ctx, rcvC, reqs[lo:hi], cfg.Concurrency)
			return step("receiver", err)
		}
		first, second := ceiling, receiver
		if i%2 == 1 {
			first, second = receiver, ceiling
		}
		if err := first(); err != nil {
			return nil, err
		}
		if err := second(); err != nil {
			return nil, err
		}
		rep.Rounds = append(rep.Rounds, rd)
		ceilings, receivers = append(ceilings, rd.Ceiling), append(receivers, rd.Receiver.Result)
		rep.Receiver.Accepted += rd.Receiver.Accepted
		rep.Receiver.Duplicate += rd.Receiver.Duplicate
	}
	rep.Ceiling, rep.Receiver.Result = loadtest.Merge(ceilings...), loadtest.Merge(receivers...)
	direct, err := Requests("d", cfg.Requests, cfg.DupEvery, now)
	if err != nil {
		return nil, err
	}
	if rep.Direct, err = Ingest(ctx, storeurl.NewIngester(b.Store, e), direct, cfg.Concurrency); err != nil {
		return nil, step("direct ingest", err)
	}
	if s, err = Send(ctx, bareC, reqs, cfg.Concurrency); err != nil {
		return nil, step("bare handler", err)
	}
	rep.BareAfter = s.Result
	if rep.Counts, err = b.Count(ctx, "r", rep.Unique); err != nil {
		return nil, step("counts", err)
	}
	if rep.DirectCounts, err = b.Count(ctx, "d", rep.Unique); err != nil {
		return nil, step("counts", err)
	}
	rep.LoadAverage = loadAverage()
	return rep, nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// keyRows is what countKeys reads: pgx.Rows, or *sql.Rows as sqlRows.
type keyRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// countKeys counts, among the keys query returns, the unique keys of the
// pull ops of the first events events of run. op_keys holds hashes, so
// the expected keys are computed here and looked up.
func countKeys(ctx context.Context, query func(context.Context) (keyRows, error), run string, events int, n *int) error {
	want := make(map[string]bool, events)
	for k := range events {
		op := connector.PullOp{Ref: connector.Ref{System: Source, Type: "DocumentReference", ID: DocumentID(run, k)}, Version: "1"}
		want[op.UniqueKey()] = true
	}
	rows, err := query(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	*n = 0
	var key string
	for rows.Next() {
		if err := rows.Scan(&key); err != nil {
			return err
		}
		if want[key] {
			*n++
		}
	}
	return rows.Err()
}
