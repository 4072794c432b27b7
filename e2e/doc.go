// Package e2e holds the end-to-end tests and benchmarks of the service as a
// user runs it: the webhook server (examples/webhook-server), the mock
// provider (examples/mock-php) and the fake Carepatron
// (examples/fake-carepatron) each built and run as its own process on
// loopback, with PostgreSQL from internal/pgtest or SQLite.
//
//	go test -race ./e2e/                      # end to end, crash and restart
//	go test -run '^$' -bench . -benchtime 1x ./e2e/   # latency and backfill figures
//
// The tests skip under -short. They start a throwaway PostgreSQL cluster
// (initdb and pg_ctl from PATH) unless DATABASE_URL names a server; without
// PostgreSQL they skip, except under CI=true, where they fail.
//
// The package has no code of its own: everything is in its tests.
package e2e
