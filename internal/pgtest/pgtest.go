package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled means initdb was found neither on PATH nor in the usual
// Debian location.
var ErrNotInstalled = errors.New("pgtest: initdb not found on PATH: install postgresql or set DATABASE_URL")

// Cluster is a PostgreSQL server for tests: a throwaway cluster this
// package started, or the server DATABASE_URL names.
type Cluster struct {
	admin *url.URL
	// The rest is set only for a cluster this package started.
	dir  string
	bin  string
	cred *syscall.Credential
}

var (
	once     sync.Once
	shared   *Cluster
	startErr error
	seq      atomic.Int64
)

// Main runs the tests, then stops the shared cluster if one was started,
// and exits. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// Server returns the shared server, starting it on first use. Without
// PostgreSQL it skips the test, or fails it when CI=true.
func Server(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { shared, startErr = Start() })
	switch {
	case errors.Is(startErr, ErrNotInstalled) && os.Getenv("CI") != "true":
		t.Skip(startErr)
	case startErr != nil:
		t.Fatal(startErr)
	}
	return shared
}

// Database creates an empty database on the shared server and returns its
// URL; the database is dropped when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	return Server(t).CreateDatabase(t)
}

// Start starts a throwaway cluster, or uses DATABASE_URL when it is set.
// Stop it when done.
func Start() (*Cluster, error) {
	if s := os.Getenv("DATABASE_URL"); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, errors.New("pgtest: DATABASE_URL is not a postgres:// URL")
		}
		return &Cluster{admin: u}, nil
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if c.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	return c, nil
}

func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return "", ErrNotInstalled
	}
	slices.Sort(dirs)
	return filepath.Dir(dirs[len(dirs)-1]), nil
}

func (c *Cluster) start() error {
	if os.Geteuid() == 0 {
		// initdb refuses root; run the cluster as the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("pgtest: running as root needs a postgres OS user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	var pw [16]byte
	rand.Read(pw[:])
	password := hex.EncodeToString(pw[:])
	pwfile := filepath.Join(c.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(pwfile, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--pwfile", pwfile, "-E", "UTF8",
		"--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
	os.Remove(pwfile)
	if err != nil {
		return err
	}
	// A port found free may be taken before the server binds it; try again.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		opts := fmt.Sprintf("-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=on -c max_connections=300", port, c.dir)
		err = c.run("pg_ctl", "-D", c.data(), "-l", c.log(), "-w", "-t", "60", "-o", opts, "start")
		if err == nil {
			c.admin = &url.URL{Scheme: "postgres", User: url.UserPassword("postgres", password),
				Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/postgres", RawQuery: "sslmode=disable"}
			return nil
		}
		if attempt == 2 {
			return err
		}
	}
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) log() string  { return filepath.Join(c.dir, "server.log") }

// run runs a PostgreSQL program as the cluster's owner.
func (c *Cluster) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail, _ := os.ReadFile(c.log())
		return fmt.Errorf("pgtest: %s: %w\n%s\n%s", name, err, out, lastLines(string(tail), 20))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Owned reports whether this package started the server, so that tests may
// restart it.
func (c *Cluster) Owned() bool { return c.dir != "" }

// URL returns the URL of the named database on the server.
func (c *Cluster) URL(database string) string {
	u := *c.admin
	u.Path = "/" + database
	return u.String()
}

// CreateDatabase creates an empty database and returns its URL; it is
// dropped, with any connection still open to it, when the test ends.
func (c *Cluster) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), seq.Add(1))
	require(t, c.adminExec("CREATE DATABASE "+name))
	t.Cleanup(func() {
		if err := c.adminExec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return c.URL(name)
}

func require(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (c *Cluster) adminExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.admin.String())
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: %s: %w", sql, err)
	}
	return nil
}

// Restart restarts the server (pg_ctl restart -m fast), dropping every
// connection. It skips the test on a server this package did not start.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if !c.Owned() {
		t.Skip("pgtest: cannot restart the server DATABASE_URL names")
	}
	require(t, c.run("pg_ctl", "-D", c.data(), "-l", c.log(), "-w", "-t", "60", "-m", "fast", "restart"))
}

// Stop stops a cluster this package started and removes its directory.
func (c *Cluster) Stop() error {
	if !c.Owned() {
		return nil
	}
	err := c.run("pg_ctl", "-D", c.data(), "-w", "-t", "60", "-m", "fast", "stop")
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	return err
}
