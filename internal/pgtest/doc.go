// Package pgtest gives tests a PostgreSQL database of their own.
//
// Unless DATABASE_URL names a server, the first test that asks starts a
// throwaway cluster with initdb and pg_ctl from PATH: in a temporary
// directory, on a free port of 127.0.0.1, with fsync on and password
// (SCRAM) authentication over TCP. One cluster serves a whole test binary;
// each test gets its own database, dropped when the test ends. TestMain
// stops the cluster and removes its directory:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.Database(t) // postgres://…/t_1?sslmode=disable
//		…
//	}
//
// initdb refuses to run as root, so when the tests run as root (as CI and
// containers do) the cluster runs as the "postgres" OS user, which owns its
// directory.
//
// When PostgreSQL is not installed, tests that ask for a database are
// skipped, except under CI=true, where they fail: CI must not pass by
// testing nothing.
package pgtest
