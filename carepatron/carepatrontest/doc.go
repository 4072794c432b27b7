// Package carepatrontest is a fake Carepatron for tests and demos: the
// strict server oapi-codegen generates from openapi/carepatron.yaml
// (server.gen.go), serving an in-memory workspace.
//
// Like the real service it is meant to stand for, it
//
//   - requires the cp-api-key header (except on /ping);
//   - validates every request against the spec (kin-openapi), answering
//     400 or 422 as application/problem+json, and, with
//     Config.ValidateResponses, checks its own responses too;
//   - keeps idempotency keys: the same key and request replays the first
//     response, another request with the key answers 409;
//   - keeps external references unique, answering 409 with the holder's id;
//   - rate-limits with a token bucket, answering 429 with Retry-After.
//
// Faults make it misbehave on purpose: 500s and 503s, 429s, latency, and
// writes that succeed but whose response is lost (a 502, or the connection
// closed). Stats counts what tests assert on: calls per operation, creates
// per idempotency key, replays, lost responses; Holding and Duplicates
// tell whether a sync ever wrote something twice.
//
// A Server is an http.Handler: mount it on httptest.NewServer in a test,
// or on any listener for a demo, where WriteListing prints what it holds
// and StatePath serves its counters as JSON.
package carepatrontest
