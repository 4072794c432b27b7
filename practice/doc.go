// Package practice is the dietician's service, independent of HTTP: users
// and roles, patients, documents, sync runs, shares, document requests and
// the audit log. The REST API (package api) and the web console are thin
// layers over it.
//
// # One policy
//
// Every operation asks [Can] whether its actor may do its [Action] on the
// record, given the facts the service loads about it ([Resource]). The
// policy is one pure function, tested as a table; no handler decides
// access. A record the actor has no relation to is answered as not found,
// so that ids of other practice members' records reveal nothing.
//
// # Audit
//
// Every read of patient data, every download, share and revoke, every
// sign-in and every denial is appended to the audit log, which nothing
// updates or deletes.
package practice
