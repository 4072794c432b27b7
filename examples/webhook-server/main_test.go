package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
)

// The binary is built once per test run, without -race: it is the program
// a user runs.
var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "webhook-server-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "webhook-server")
		// The go command on PATH, with this environment's GOTOOLCHAIN.
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binary = string(out)
		}
	})
	require.NoError(t, buildErr, "go build: %s", binary)
	return binary
}

// baseEnv is the environment a child gets: enough to run, none of the
// server's settings inherited from the test's own environment.
func baseEnv(t *testing.T, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	return append(env, extra...)
}

// child is a running server process whose output the test reads.
type child struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	lines  chan string // stdout lines, for the banner
	done   chan struct{}
	err    error
}

func start(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(serverBinary(t), args...), lines: make(chan string, 256), done: make(chan struct{})}
	c.cmd.Env = env
	c.cmd.Dir = t.TempDir()
	out, err := c.cmd.StdoutPipe()
	require.NoError(t, err)
	c.cmd.Stderr = lockedWriter{&c.mu, &c.stderr}
	require.NoError(t, c.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.mu.Lock()
			c.stdout.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		close(c.lines)
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr (tail):\n%s", c.output(), tail(c.errors(), 4000))
		}
	})
	return c
}

func (c *child) output() string { c.mu.Lock(); defer c.mu.Unlock(); return c.stdout.String() }
func (c *child) errors() string { c.mu.Lock(); defer c.mu.Unlock(); return c.stderr.String() }

// wait returns the exit code, or fails the test after timeout.
func (c *child) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("the server did not exit within %s", timeout)
	}
	return c.cmd.ProcessState.ExitCode()
}

// bannerValue reads stdout until a line starting with label, and returns
// the first URL on it.
func (c *child) bannerValue(t *testing.T, label string, timeout time.Duration) string {
	t.Helper()
	return strings.Fields(c.bannerRest(t, label, timeout))[0]
}

// bannerRest returns what follows label on the first stdout line that
// starts with it.
func (c *child) bannerRest(t *testing.T, label string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("the server exited before printing %q", label)
			}
			if rest, found := strings.CutPrefix(strings.TrimSpace(line), label); found && strings.TrimSpace(rest) != "" {
				return rest
			}
		case <-deadline:
			t.Fatalf("no %q line within %s", label, timeout)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// getJSON GETs url on loopback and decodes a JSON answer into v; it returns
// the status.
func getJSON(ctx context.Context, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// PostgreSQL tests get a throwaway cluster, stopped when the tests end.
func TestMain(m *testing.M) { pgtest.Main(m) }

// The README's demo: the built server with -demo syncs the mock provider's
// documents into the fake Carepatron, reports itself ready, serves the
// webhook metrics, and exits 0 on SIGTERM.
func TestDemoEndToEnd(t *testing.T) {
	runDemo(t, baseEnv(t))
}

// The same on PostgreSQL: -demo-database names a fresh database.
func TestDemoOnPostgres(t *testing.T) {
	runDemo(t, baseEnv(t), "-demo-database", pgtest.Database(t))
}

// A DATABASE_URL in the environment (a production one, say) stops the
// demo before it writes anything there; only -demo-database names the
// database the demo fills.
func TestDemoRefusesDatabaseURL(t *testing.T) {
	dir := t.TempDir()
	prod := filepath.Join(dir, "production.db")
	c := start(t, baseEnv(t, "DATABASE_URL="+prod, "DEMO=true"), "-demo", "-listen", "127.0.0.1:0")
	assert.Equal(t, exitConfig, c.wait(t, 20*time.Second))
	assert.Contains(t, c.errors(), "-demo refuses DATABASE_URL (-database-url)")
	assert.NoFileExists(t, prod, "nothing written to the configured database")

	// DEMO=true alone is no demo: the production configuration is
	// incomplete, and said so.
	c = start(t, baseEnv(t, "DATABASE_URL="+prod, "DEMO=true", "LISTEN_ADDR=127.0.0.1:0"))
	assert.Equal(t, exitConfig, c.wait(t, 20*time.Second))
	assert.Contains(t, c.errors(), "FHIR_BASE_URL (-fhir-base-url) is required")
	assert.NoFileExists(t, prod)
}

func runDemo(t *testing.T, env []string, args ...string) {
	c := start(t, env, append([]string{"-demo", "-listen", "127.0.0.1:0", "-demo-touch-every", "1s"}, args...)...)
	server := c.bannerValue(t, "server:", 30*time.Second)
	state := c.bannerValue(t, "state:", 5*time.Second)
	mailURL := c.bannerValue(t, "mail received:", 5*time.Second)
	inquiryAddr := c.bannerValue(t, "inquiries by SMTP:", 5*time.Second)
	for _, u := range []string{server, state, mailURL} {
		require.True(t, strings.HasPrefix(u, "http://127.0.0.1:"), "not loopback: %s", u)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var fake struct {
		Contacts  int            `json:"contacts"`
		Documents map[string]int `json:"documentsPerContact"`
	}
	docs := 0
	for docs == 0 && ctx.Err() == nil {
		if code, err := getJSON(ctx, state, &fake); err == nil && code == http.StatusOK {
			docs = 0
			for _, n := range fake.Documents {
				docs += n
			}
		}
		if docs == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	require.Positive(t, docs, "no document reached the fake Carepatron within 60s")
	t.Logf("fake Carepatron holds %d contacts and %d documents", fake.Contacts, docs)

	var ready readyBody
	code, err := getJSON(ctx, server+"/readyz", &ready)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "readyz: %+v", ready)
	assert.Equal(t, stateOK, ready.Status)
	assert.Equal(t, map[string]checkResult{"database": {Status: "ok"}, "workers": {Status: "ok"},
		"provider": {Status: "ok"}, "carepatron": {Status: "ok"}}, ready.Checks)
	code, err = getJSON(ctx, server+"/healthz", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)

	// The mock provider changes something every second and tells the
	// server by webhook: the receiver's counter shows it accepted.
	var metrics string
	for ctx.Err() == nil && !(strings.Contains(metrics, `outcome="accepted"`) && strings.Contains(metrics, "healthcare_records_sync_runs_finished_total{")) {
		time.Sleep(300 * time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, server+"/metrics", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			metrics = string(b)
		}
	}
	assert.Contains(t, metrics, `webhook_requests_total{format="standard-webhooks",outcome="accepted",source="php"}`)
	assert.Contains(t, metrics, `healthcare_records_sync_runs_finished_total{result="ok"}`)
	assert.Contains(t, metrics, `healthcare_records_op_attempts_total{kind="deliver",system="carepatron"}`)
	assert.Contains(t, metrics, `healthcare_records_queue_pending_jobs{queue="hr_deliver_carepatron"}`)
	assert.Contains(t, metrics, `healthcare_records_readiness_check_state{check="carepatron"} 0`)

	// The printed dietician signs in to the API and sees the demo's
	// patients.
	admin := strings.Fields(c.bannerRest(t, "admin ", 60*time.Second))
	require.Len(t, admin, 3, "admin EMAIL password PASSWORD")
	dietician := strings.Fields(c.bannerRest(t, "dietician ", 5*time.Second))
	require.Len(t, dietician, 3, "dietician EMAIL password PASSWORD")
	tok := signIn(t, ctx, server, dietician[0], dietician[2])
	var patients struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	code, err = callAPI(ctx, http.MethodGet, server+"/api/v1/patients", tok, nil, &patients)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	assert.Len(t, patients.Items, 5, "the demo dietician owns the demo's patients")

	// The demo mailed one inquiry to its listener, over SMTP, once its
	// dietician existed; the dietician sees it.
	ictx, icancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer icancel()
	q := waitInquiry(t, ictx, server, tok, "riley@prospect.example")
	assert.Equal(t, "Riley Prospect", q.Name)
	assert.Equal(t, "email", q.Channel)
	checkInquiryEmails(t, context.Background(), server, mailURL, inquiryAddr, admin, dietician)

	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, c.wait(t, 30*time.Second), "exit code after SIGTERM")
	logs := c.errors()
	assert.Contains(t, logs, `"msg":"stopped cleanly"`)
	assertJSONLines(t, logs)
}

// assertJSONLines checks that every stderr line is one JSON object: the
// logs are structured.
func assertJSONLines(t *testing.T, logs string) {
	t.Helper()
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var v map[string]any
		if !assert.NoError(t, json.Unmarshal([]byte(line), &v), "not a JSON log line: %s", line) {
			return
		}
	}
}
