package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// The crash test runs the engine in a child process (this test binary
// re-executed) that it kills with SIGKILL. The Source and Sink live in the
// parent, reached over loopback HTTP, so what the sink received outlives
// every child.
const (
	envChild  = "HR_CRASH_CHILD_DB"
	envBridge = "HR_CRASH_BRIDGE"
	envIngest = "HR_CRASH_INGEST"
)

func TestMain(m *testing.M) {
	if db := os.Getenv(envChild); db != "" {
		os.Exit(runChild(db, os.Getenv(envBridge), os.Getenv(envIngest) != ""))
	}
	os.Exit(m.Run())
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 25})
	_, err := src.Fill(20, 20)
	require.NoError(t, err)
	sink := connectortest.NewSink(connectortest.SinkConfig{WriteRate: 60, WriteBurst: 1,
		Faults: connectortest.Faults{ErrorRate: 0.05, LostResponseRate: 0.05, Seed: 3}})
	bridge := httptest.NewServer(bridgeHandler(src, sink))
	defer bridge.Close()
	db := filepath.Join(t.TempDir(), "crash.db")
	total := len(src.Documents())

	child := func(ingest bool) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+db, envBridge+"="+bridge.URL)
		if ingest {
			cmd.Env = append(cmd.Env, envIngest+"=1")
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			// Ends a child the test left running when it failed.
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		return cmd
	}
	waitFor := func(n int, within time.Duration) {
		deadline := time.Now().Add(within)
		for len(sink.Documents()) < n {
			require.True(t, time.Now().Before(deadline), "sink holds %d of %d documents", len(sink.Documents()), n)
			time.Sleep(20 * time.Millisecond)
		}
	}

	cmd := child(true)
	for _, frac := range []int{25, 60} {
		waitFor(total*frac/100, time.Minute)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		t.Logf("killed the child with %d of %d documents in the sink", len(sink.Documents()), total)
		cmd = child(false)
	}
	// The survivor finishes the work; the killed runs' jobs are rescued.
	waitFor(total, 4*time.Minute)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "clean exit on SIGTERM")

	require.NoError(t, sink.Check())
	for _, d := range src.Documents() {
		got, ok := sink.Document(d.Ref)
		if assert.True(t, ok, "%s missing", d.Ref) {
			assert.Equal(t, d.Version, got.Document.Version)
		}
	}
	assert.Len(t, sink.Patients(), len(src.Patients()))

	s, err := sqlite.Open(context.Background(), db, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	dead, err := s.DeadLetters(context.Background(), 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

// runChild syncs every patient of the bridged Source into the bridged Sink
// until SIGTERM (or SIGKILL).
func runChild(db, bridge string, ingest bool) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := storetest.FastConfig()
	cfg.JobTimeout, cfg.RescueAfter = 5*time.Second, 6*time.Second
	s, err := sqlite.Open(ctx, db, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer s.Close()
	r := remote{url: bridge}
	e, err := connector.New(connector.Config{
		Store: s, Sources: map[string]connector.Source{"php": r}, Sinks: map[string]connector.Sink{"cp": r},
		Retry: storetest.FastRetry, Logger: log, CallTimeout: 2 * time.Second, LeaseTTL: 5 * time.Second,
	})
	if err == nil {
		err = s.Start(ctx, e)
	}
	if err == nil && ingest {
		err = ingestAll(ctx, e, r)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "child: stop:", err)
		return 1
	}
	return 0
}

func ingestAll(ctx context.Context, e *connector.Engine, r remote) error {
	var ids []string
	if err := r.call(ctx, "patients", nil, &ids); err != nil {
		return err
	}
	for _, id := range ids {
		_, err := e.Ingest(ctx, connector.Event{ID: "p-" + id, Source: "php",
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: id}}}})
		if err != nil {
			return err
		}
		if _, err := e.Sync(ctx, "php", id, connector.ActionManualSync, false); err != nil {
			return err
		}
	}
	return nil
}

// bridgeHandler serves a Source and a Sink as JSON calls.
func bridgeHandler(src *connectortest.Source, sink *connectortest.Sink) http.Handler {
	mux := http.NewServeMux()
	handle := func(name string, fn func(ctx context.Context, body []byte) (any, error)) {
		mux.HandleFunc("POST /"+name, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			out, err := fn(r.Context(), body)
			resp := bridgeResponse{}
			if err != nil {
				resp.Error = err.Error()
				switch d, ok := connector.RetryDelay(err); {
				case ok:
					resp.Class, resp.Delay = "retry", d
				case errors.Is(err, connector.ErrNotFound):
					resp.Class = "notfound"
				case connector.IsPermanent(err):
					resp.Class = "permanent"
				case errors.Is(err, connector.ErrConflict):
					resp.Class = "conflict"
				}
			} else {
				resp.Result, _ = json.Marshal(out)
			}
			json.NewEncoder(w).Encode(resp)
		})
	}
	handle("patients", func(context.Context, []byte) (any, error) {
		var ids []string
		for _, p := range src.Patients() {
			ids = append(ids, p.Ref.ID)
		}
		return ids, nil
	})
	handle("list", func(ctx context.Context, b []byte) (any, error) {
		var in struct {
			Patient connector.Ref
			Cursor  string
		}
		json.Unmarshal(b, &in)
		return src.ListDocuments(ctx, in.Patient, in.Cursor)
	})
	handle("fetch", func(ctx context.Context, b []byte) (any, error) {
		var ref connector.Ref
		json.Unmarshal(b, &ref)
		return src.FetchDocument(ctx, ref)
	})
	handle("find", func(ctx context.Context, b []byte) (any, error) {
		var q connector.PatientQuery
		json.Unmarshal(b, &q)
		return src.FindPatient(ctx, q)
	})
	handle("upsert", func(ctx context.Context, b []byte) (any, error) {
		var w connector.PatientWrite
		json.Unmarshal(b, &w)
		return sink.UpsertPatient(ctx, w)
	})
	handle("put", func(ctx context.Context, b []byte) (any, error) {
		var w connector.DocumentWrite
		json.Unmarshal(b, &w)
		return sink.PutDocument(ctx, w)
	})
	handle("delete", func(ctx context.Context, b []byte) (any, error) {
		var d connector.DocumentDelete
		json.Unmarshal(b, &d)
		return nil, sink.DeleteDocument(ctx, d)
	})
	return mux
}

type bridgeResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Class  string          `json:"class,omitempty"`
	Delay  time.Duration   `json:"delay,omitempty"`
}

// remote is the child's Source and Sink, calling the parent's bridge.
type remote struct{ url string }

func (r remote) call(ctx context.Context, name string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/"+name, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var br bridgeResponse
	if err := json.NewDecoder(resp.Body).Decode(&br); err != nil {
		return err
	}
	if br.Error != "" {
		err := errors.New(br.Error)
		switch br.Class {
		case "retry":
			return connector.RetryAfter(br.Delay, err)
		case "notfound":
			return fmt.Errorf("%w: %v", connector.ErrNotFound, err)
		case "permanent":
			return fmt.Errorf("%w: %v", connector.ErrPermanent, err)
		case "conflict":
			return fmt.Errorf("%w: %v", connector.ErrConflict, err)
		}
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(br.Result, out)
}

func (r remote) ListDocuments(ctx context.Context, p connector.Ref, cursor string) (page connector.Page, err error) {
	err = r.call(ctx, "list", map[string]any{"Patient": p, "Cursor": cursor}, &page)
	return page, err
}

func (r remote) FetchDocument(ctx context.Context, ref connector.Ref) (d *connector.Document, err error) {
	err = r.call(ctx, "fetch", ref, &d)
	return d, err
}

func (r remote) FindPatient(ctx context.Context, q connector.PatientQuery) (p *connector.Patient, err error) {
	err = r.call(ctx, "find", q, &p)
	return p, err
}

func (r remote) UpsertPatient(ctx context.Context, w connector.PatientWrite) (id string, err error) {
	err = r.call(ctx, "upsert", w, &id)
	return id, err
}

func (r remote) PutDocument(ctx context.Context, w connector.DocumentWrite) (id string, err error) {
	err = r.call(ctx, "put", w, &id)
	return id, err
}

func (r remote) DeleteDocument(ctx context.Context, d connector.DocumentDelete) error {
	return r.call(ctx, "delete", d, nil)
}
