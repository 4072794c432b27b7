// Command fake-carepatron runs the fake Carepatron of package
// carepatron/carepatrontest on its own: the routes of
// openapi/carepatron.yaml served from memory, with its rate limit and
// faults, for end-to-end tests, benchmarks and demos that want the sink in
// a process of its own.
//
//	go run ./examples/fake-carepatron -addr 127.0.0.1:8092 -rate 50
//
// It accepts one API key in the cp-api-key header: -api-key, else
// CAREPATRON_API_KEY from the environment, else the public test key
// cp-test-key. The webhook server reads the same CAREPATRON_API_KEY, so one
// export serves both:
//
//	export CAREPATRON_API_KEY=any-local-key
//	go run ./examples/fake-carepatron &
//	CAREPATRON_BASE_URL=http://127.0.0.1:8092 go run ./examples/webhook-server ...
//
// It prints its base URL, the settings to give the webhook server, and
// where to look. Besides the API it serves, without authentication and
// with ids, references, versions and hashes only (no names, titles or
// contents):
//
//	GET /_fake/state     counters: calls per operation, creates per Idempotency-Key, replays, 429s
//	GET /_fake/listing   contacts and their documents, as a table for a person
//	GET /_fake/export    every contact and document as JSON, with source versions and times
//	GET /_fake/faults    the faults in force
//	PUT /_fake/faults    replace them: {"error_rate":0.1,"throttle_rate":0.05,"retry_after":"1s"}
//
// SIGINT or SIGTERM stops it.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
	"github.com/healthcare-records/healthcare-records/internal/httpstop"
)

// Paths served beside the API.
const (
	ListingPath = "/_fake/listing"
	ExportPath  = "/_fake/export"
	FaultsPath  = "/_fake/faults"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fake-carepatron:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fake-carepatron", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr     = fs.String("addr", "127.0.0.1:8092", "listen address")
		apiKey   = fs.String("api-key", "", "the cp-api-key the fake accepts (default $"+keyEnv+", else "+carepatrontest.DefaultAPIKey+")")
		limit    = fs.Float64("rate", 0, "requests answered per second at most, past which it answers 429 (0: no limit)")
		burst    = fs.Int("burst", 1, "token bucket size of -rate")
		seed     = fs.Uint64("seed", 1, "seed of fault decisions")
		validate = fs.Bool("validate-responses", false, "check every response against the spec too")
		logLevel = fs.String("log-level", "warn", "debug, info, warn or error")
		f        faultsJSON
	)
	fs.Float64Var(&f.ErrorRate, "error-rate", 0, "chance a request fails with 500 or 503")
	fs.Float64Var(&f.ThrottleRate, "throttle-rate", 0, "chance a request is refused with 429")
	fs.StringVar(&f.RetryAfter, "retry-after", "0s", "Retry-After of injected 429s and 503s")
	fs.Float64Var(&f.LostResponseRate, "lost-response-rate", 0, "chance a successful write loses its response")
	fs.StringVar(&f.Latency, "latency", "0s", "delay of every request")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: fake-carepatron [flags]

Serves a fake Carepatron API from memory. It accepts one api key:
-api-key, else %[1]s from the environment, else %[2]s.
Give the webhook server the same key as %[1]s, and the
printed base url as CAREPATRON_BASE_URL.

`, keyEnv, carepatrontest.DefaultAPIKey)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *apiKey == "" {
		*apiKey = cmp.Or(os.Getenv(keyEnv), carepatrontest.DefaultAPIKey)
	}
	faults, err := f.faults()
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	fake := carepatrontest.NewServer(carepatrontest.Config{
		APIKeys: []string{*apiKey}, RateLimit: *limit, Burst: *burst, Faults: faults,
		ValidateResponses: *validate, Seed: *seed, Logger: log,
	})
	h := handler(fake, f)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	origin := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}

	fmt.Fprintf(stdout, "fake Carepatron:  %s\n", origin)
	fmt.Fprintf(stdout, "  api key:        %s\n", keyHint(*apiKey))
	fmt.Fprintf(stdout, "  webhook server: CAREPATRON_BASE_URL=%s %s=%s\n", origin, keyEnv, keyHint(*apiKey))
	fmt.Fprintf(stdout, "  state:          %s%s\n", origin, carepatrontest.StatePath)
	fmt.Fprintf(stdout, "  listing:        %s%s\n", origin, ListingPath)
	fmt.Fprintf(stdout, "  export:         %s%s\n", origin, ExportPath)
	fmt.Fprintf(stdout, "  faults:         %s%s\n", origin, FaultsPath)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return httpstop.Stop(srv, time.Second)
}

// keyEnv is where the fake and the webhook server both find the API key.
const keyEnv = "CAREPATRON_API_KEY"

// keyHint shows the default key, which is public, and hides any other.
func keyHint(k string) string {
	switch k {
	case carepatrontest.DefaultAPIKey:
		return k
	case os.Getenv(keyEnv):
		return "$" + keyEnv
	}
	return "(the -api-key value)"
}

// handler serves the fake's API with the fake's own tooling beside it.
// initial is the faults it started with.
func handler(fake *carepatrontest.Server, initial faultsJSON) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ListingPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = fake.WriteListing(w)
	})
	mux.HandleFunc("GET "+ExportPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, exportOf(fake))
	})
	var (
		mu      sync.Mutex
		current = initial
	)
	mux.HandleFunc("GET "+FaultsPath, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		f := current
		mu.Unlock()
		writeJSON(w, http.StatusOK, f)
	})
	mux.HandleFunc("PUT "+FaultsPath, func(w http.ResponseWriter, r *http.Request) {
		var f faultsJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		faults, err := f.faults()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		fake.SetFaults(faults)
		current = f
		mu.Unlock()
		writeJSON(w, http.StatusOK, f)
	})
	mux.Handle("/", fake)
	return mux
}

// faultsJSON is carepatrontest.Faults with durations as text ("250ms").
type faultsJSON struct {
	ErrorRate        float64 `json:"error_rate,omitempty"`
	ThrottleRate     float64 `json:"throttle_rate,omitempty"`
	RetryAfter       string  `json:"retry_after,omitempty"`
	LostResponseRate float64 `json:"lost_response_rate,omitempty"`
	Latency          string  `json:"latency,omitempty"`
}

func (f faultsJSON) faults() (carepatrontest.Faults, error) {
	out := carepatrontest.Faults{ErrorRate: f.ErrorRate, ThrottleRate: f.ThrottleRate, LostResponseRate: f.LostResponseRate}
	for name, p := range map[string]float64{"error_rate": f.ErrorRate, "throttle_rate": f.ThrottleRate, "lost_response_rate": f.LostResponseRate} {
		if p < 0 || p > 1 {
			return out, fmt.Errorf("%s %v is not a probability", name, p)
		}
	}
	var err error
	if out.RetryAfter, err = parseDuration("retry_after", f.RetryAfter); err != nil {
		return out, err
	}
	if out.Latency, err = parseDuration("latency", f.Latency); err != nil {
		return out, err
	}
	return out, nil
}

func parseDuration(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s %q is not a duration such as 250ms", name, s)
	}
	return d, nil
}

// Export is what ExportPath serves: every contact and document, by ids,
// external references, source versions, hashes and times.
type Export struct {
	Contacts  []ExportContact  `json:"contacts"`
	Documents []ExportDocument `json:"documents"`
}

// ExportContact is a contact without its personal details.
type ExportContact struct {
	ID                string    `json:"id"`
	ExternalReference string    `json:"externalReference"`
	SourceVersion     string    `json:"sourceVersion"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// ExportDocument is a document without its title or content.
type ExportDocument struct {
	ID                string    `json:"id"`
	ContactID         string    `json:"contactId"`
	ExternalReference string    `json:"externalReference"`
	SourceVersion     string    `json:"sourceVersion"`
	Sha256            string    `json:"sha256"`
	Size              int64     `json:"size"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

func exportOf(fake *carepatrontest.Server) Export {
	ex := Export{Contacts: []ExportContact{}, Documents: []ExportDocument{}}
	for _, c := range fake.Contacts() {
		ex.Contacts = append(ex.Contacts, ExportContact{ID: c.Id, ExternalReference: c.ExternalReference,
			SourceVersion: c.SourceVersion, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
		for _, d := range fake.Documents(c.Id) {
			ex.Documents = append(ex.Documents, ExportDocument{ID: d.Id, ContactID: d.ContactId,
				ExternalReference: d.ExternalReference, SourceVersion: d.SourceVersion, Sha256: d.Sha256,
				Size: d.Size, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt})
		}
	}
	return ex
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
