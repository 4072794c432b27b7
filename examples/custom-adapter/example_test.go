package main

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
)

// The bundled FHIR files, synced through the engine on SQLite into a new
// folder, then synced again: the second round lists nothing new and makes
// no write.
func Example() {
	dir, err := os.MkdirTemp("", "custom-adapter-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	provider, err := fs.Sub(bundled, "testdata")
	if err != nil {
		panic(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), os.Stdout, provider, dir, quiet); err != nil {
		panic(err)
	}
	// Output:
	// ingested event announce-patients: 2 patients, 2 pulls enqueued (duplicate: false)
	// sink writes: 2
	// synced patient example: 2 of 2 listed documents pulled, 0 failed
	// synced patient f001: 1 of 1 listed documents pulled, 0 failed
	// sink writes: 3
	// synced again patient example: 0 of 0 listed documents pulled, 0 failed
	// synced again patient f001: 0 of 0 listed documents pulled, 0 failed
	// sink writes: 0
	// the sink holds 3 documents:
	//   DocumentReference/discharge-summary version 2: other, text/plain, 98 bytes
	//   DocumentReference/episode-summary version 1: other, text/plain, 78 bytes
	//   DocumentReference/f001-glucose version 1: lab_result, text/plain, 92 bytes
	// dead letters: 0
}
