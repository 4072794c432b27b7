package connectortest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing the
// test, so that a test can run a suite against a broken implementation and
// assert what the suite reported. It runs subtests in their own goroutine,
// as the testing package does, so that FailNow and SkipNow (which end the
// goroutine) end only the subtest.
type recorder struct {
	testing.TB // the real test: Context, Cleanup, TempDir

	name string
	log  *failures

	mu              sync.Mutex
	failed, skipped bool
}

// failure is one reported failure: the subtest path and its message.
type failure struct{ test, msg string }

func (f failure) String() string { return f.test + ": " + f.msg }

type failures struct {
	mu   sync.Mutex
	list []failure
}

var _ subtester = (*recorder)(nil)

// record runs fn with a fresh recorder under t, in its own goroutine, and
// returns the recorder once fn ends.
func record(t *testing.T, name string, fn func(t testing.TB)) *recorder {
	r := &recorder{TB: t, name: name, log: &failures{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Helper()      {}

func (r *recorder) Log(args ...any)                 { r.TB.Log(append([]any{r.name + ":"}, args...)...) }
func (r *recorder) Logf(format string, args ...any) { r.TB.Logf(r.name+": "+format, args...) }

func (r *recorder) Error(args ...any) { r.report(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) {
	r.report(fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) { r.report(fmt.Sprint(args...)); r.FailNow() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.report(fmt.Sprintf(format, args...))
	r.FailNow()
}

func (r *recorder) report(msg string) {
	r.log.mu.Lock()
	r.log.list = append(r.log.list, failure{r.name, msg})
	r.log.mu.Unlock()
	r.Fail()
}

func (r *recorder) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}

func (r *recorder) FailNow() {
	r.Fail()
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Skip(args ...any)                 { r.Log(args...); r.SkipNow() }
func (r *recorder) Skipf(format string, args ...any) { r.Logf(format, args...); r.SkipNow() }

func (r *recorder) SkipNow() {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

// Run runs f as a subtest in its own goroutine and marks r failed if the
// subtest fails.
func (r *recorder) Run(name string, f func(t testing.TB)) bool {
	child := &recorder{TB: r.TB, name: r.name + "/" + name, log: r.log}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(child)
	}()
	<-done
	if child.Failed() {
		r.Fail()
	}
	return !child.Failed()
}

// Failures returns every recorded failure, in order.
func (r *recorder) Failures() []failure {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	return append([]failure(nil), r.log.list...)
}

// Report renders the failures, one a line, for assertion messages.
func (r *recorder) Report() string {
	var b strings.Builder
	for _, f := range r.Failures() {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Reported reports whether a failure of a test whose path contains test
// has a message containing msg.
func (r *recorder) Reported(test, msg string) bool {
	for _, f := range r.Failures() {
		if strings.Contains(f.test, test) && strings.Contains(f.msg, msg) {
			return true
		}
	}
	return false
}

// TestRecorder checks the recorder itself: that it catches failures,
// stops at FailNow, and propagates subtest failures.
func TestRecorder(t *testing.T) {
	after := false
	r := record(t, "Suite", func(t testing.TB) {
		run(t, "Passes", func(t testing.TB) {})
		run(t, "Fails", func(t testing.TB) {
			t.Fatalf("broken %d", 1)
			after = true
		})
		run(t, "Skips", func(t testing.TB) { t.Skip("nothing to do") })
	})
	if !r.Failed() || after || len(r.Failures()) != 1 || !r.Reported("Suite/Fails", "broken 1") {
		t.Fatalf("recorder misbehaves: failed=%v after=%v failures:\n%s", r.Failed(), after, r.Report())
	}
}
