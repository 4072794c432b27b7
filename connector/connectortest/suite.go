package connectortest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// The suites run their checks against testing.TB rather than *testing.T so
// that a test of the suites can hand them a recorder and watch them fail.
// Subtests need more than testing.TB offers; run finds them on t.

// subtester is a testing.TB that runs subtests given a testing.TB, such as
// a recorder in a test of the suites.
type subtester interface {
	testing.TB
	Run(name string, f func(t testing.TB)) bool
}

// run runs f as subtest name of t, or inline when t has no subtests.
func run(t testing.TB, name string, f func(t testing.TB)) bool {
	t.Helper()
	switch tt := t.(type) {
	case *testing.T:
		return tt.Run(name, func(t *testing.T) { f(t) })
	case subtester:
		return tt.Run(name, f)
	}
	f(t)
	return !t.Failed()
}

const (
	defaultTimeout     = 30 * time.Second
	defaultConcurrency = 8
)

// callContext bounds one call of the system under test.
func callContext(t testing.TB, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), timeout)
}

// problems gathers failures from goroutines, to be reported by the test's
// own goroutine (FailNow may not be called from others).
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) addf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

// report fails t with the gathered problems, the first few in full.
func (p *problems) report(t testing.TB, what string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) == 0 {
		return
	}
	const most = 10
	shown := p.list[:min(len(p.list), most)]
	more := ""
	if len(p.list) > most {
		more = fmt.Sprintf("\n\t... and %d more", len(p.list)-most)
	}
	t.Errorf("%s: %d problems:\n\t%s%s", what, len(p.list), strings.Join(shown, "\n\t"), more)
}
