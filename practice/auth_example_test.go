package practice_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// printAudit keeps each audit entry as its transaction commits, to show
// them here; the store keeps them too.
type printAudit struct {
	practice.Store
	mu      *sync.Mutex
	entries *[]practice.AuditEntry
}

type printAuditTx struct {
	practice.Tx
	entries *[]practice.AuditEntry
}

func (t printAuditTx) AppendAudit(ctx context.Context, entries ...practice.AuditEntry) error {
	*t.entries = append(*t.entries, entries...)
	return t.Tx.AppendAudit(ctx, entries...)
}

func (s printAudit) Write(ctx context.Context, fn func(practice.Tx) error) error {
	var entries []practice.AuditEntry
	err := s.Store.Write(ctx, func(tx practice.Tx) error { return fn(printAuditTx{tx, &entries}) })
	if err == nil {
		s.mu.Lock()
		*s.entries = append(*s.entries, entries...)
		s.mu.Unlock()
	}
	return err
}

// print shows the audit entries kept so far.
func (s printAudit) print() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range *s.entries {
		if e.Outcome == practice.OutcomeSuccess {
			fmt.Println("audit:", e.Action, e.Outcome, e.Target)
		} else {
			reason, _, _ := strings.Cut(e.Detail, "; session ")
			fmt.Printf("audit: %s %s %s (%s)\n", e.Action, e.Outcome, e.Target, reason)
		}
	}
}

// The first admin is created without an actor (as hrctl users create
// does), then signs in: the access token authenticates each request, the
// refresh token renews it.
func ExampleService_Login() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "practice-example")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "records.db"), store.Config{Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	engine, err := connector.New(connector.Config{Store: db, Sources: map[string]connector.Source{"php": php}, Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	st := printAudit{db, new(sync.Mutex), new([]practice.AuditEntry)}
	svc, err := practice.New(practice.Config{Store: st, Engine: engine, Provider: "php", ProviderSource: php, Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer svc.Close()

	admin, err := practice.Bootstrap(ctx, st, practice.NewUser{Email: "ada@example.org", Name: "Ada Admin",
		Role: practice.RoleAdmin, Password: "correct horse battery staple"}, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created user", admin.ID, "as", admin.Role)

	from := practice.Client{Addr: "192.0.2.1", RequestID: "r1"}
	_, err = svc.Login(ctx, from, "ada@example.org", "correct horse")
	fmt.Println(err, errors.Is(err, practice.ErrUnauthenticated))

	tok, err := svc.Login(ctx, from, "Ada@Example.org", "correct horse battery staple")
	if err != nil {
		fmt.Println(err)
		return
	}
	actor, err := svc.Authenticate(ctx, from, tok.Access)
	fmt.Println("request by user", actor.UserID, "as", actor.Role, err)
	fmt.Println("access token lasts", time.Until(tok.AccessExpires).Round(time.Minute))

	next, err := svc.Refresh(ctx, from, tok.Refresh)
	fmt.Println("refreshed:", next.Refresh != tok.Refresh, err)
	_, err = svc.Refresh(ctx, from, tok.Refresh)
	fmt.Println(err)

	// The audit log is written in batches, apart from the requests.
	if err := svc.FlushAudit(ctx); err != nil {
		fmt.Println(err)
		return
	}
	st.print()
	// Output:
	// created user 1 as admin
	// not signed in: the email or password is wrong true
	// request by user 1 as admin <nil>
	// access token lasts 15m0s
	// refreshed: true <nil>
	// not signed in: the refresh token was used already; sign in again
	// audit: user.create success user:1
	// audit: auth.login failure user:1 (wrong password)
	// audit: auth.login success user:1
	// audit: auth.refresh success user:1
	// audit: auth.refresh failure user:1 (refresh token reuse: session revoked)
}
