// Package connectortest helps test code built on package connector: it
// holds the conformance suites an adapter runs to prove it keeps the
// connector.Source or connector.Sink contract, and in-memory Source and Sink
// implementations that misbehave on demand for testing the engine.
//
// # Conformance in one call
//
// An adapter author proves an adapter in one test, as testing/fstest.TestFS
// does for a file system:
//
//	func TestSource(t *testing.T) {
//		src := fhir.NewSource(client) // the adapter under test
//		connectortest.TestSource(t, src, connectortest.SourceOptions{
//			Name:     "php",
//			Patients: []connector.Ref{{ID: "example-patient"}},
//		})
//	}
//
//	func TestSink(t *testing.T) {
//		connectortest.TestSink(t, carepatron.NewSink(client), connectortest.SinkOptions{})
//	}
//
// Each suite runs subtests named after the contract they check, and each
// failure says which rule was broken and why the engine depends on it.
// TestSource pages every listing to its end, resumes from a returned
// cursor, lists again from the final cursor, fetches every listed document
// and checks its ref, version, validity, size and content hash, asks for a
// missing document and patient, and repeats the fetches concurrently.
// TestSink upserts a patient, creates, updates, replays and deletes
// documents with and without their sink ids, and writes concurrently; with
// SinkOptions.Count and SinkOptions.HeldVersion it also checks that no
// write created a duplicate and no replayed key wrote an old version again.
// Run them with -race: the concurrency checks are meant to meet the race
// detector.
//
// The suites assume a quiet system: nothing else changes the Source while
// TestSource runs, and neither suite retries, so turn off injected faults
// first.
//
// # In-memory Source and Sink
//
// Source is a provider's records held in memory. A test adds patients and
// documents, updates and removes them; every change gets the next numeric
// version, and listings follow the order of changes behind an opaque cursor
// with a configurable page size:
//
//	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 20})
//	patients, _ := src.Fill(200, 10) // synthetic patients, 10 documents each
//	src.UpdateDocument(id, func(d *connector.Document) { d.Title = "Amended" })
//	src.RemoveDocument(id)
//
// Sink is a practice platform held in memory. It keeps the Sink contract to
// the letter: it remembers every idempotency key with its result, and a
// write without a sink id for a ref it holds updates that object. It also
// records what an exactly-once test asserts: calls and applied writes per
// key (Sink.CallsFor, Sink.AppliedFor), the versions written to each ref
// (Sink.History), writes of an older version over a newer one
// (Sink.Regressions), and calls for one ref that overlapped. Sink.Check
// sums these up:
//
//	sink := connectortest.NewSink(connectortest.SinkConfig{WriteRate: 500})
//	// ... run the engine to completion ...
//	if err := sink.Check(); err != nil {
//		t.Fatal(err)
//	}
//
// # Faults
//
// Both take Faults, which can be changed while they are in use: a rate of
// transient errors, of RetryAfter errors with their delay, of lost
// responses (the Sink applies the write, then fails), and a latency that
// honours the context. Faults are reproducible: each call's fate is drawn
// from the seed and the call's own identity (its idempotency key or ref, and
// how often that was called before), never from the order in which
// goroutines happen to run. Injected failures wrap ErrInjected.
//
// Nothing here logs, and the records Fill makes are synthetic.
package connectortest
