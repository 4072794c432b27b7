package storetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/loadtest"
	"github.com/healthcare-records/healthcare-records/practice"
)

// BenchAuditEntries is how many audit entries BenchAudit appends at each
// batch size.
const BenchAuditEntries = 15360

// BenchAudit reports what one audit entry costs the machine when the
// service's writer appends it (one goroutine, one write transaction a
// batch, as practice's audit log does), at batch sizes from one entry to
// the writer's largest: the elapsed time and the CPU time an entry, in
// this process and in all processes (the database's included). Each
// entry is a document listing's, as the API's list appends. It prints to
// stdout, with db naming the database.
func BenchAudit(b *testing.B, db string, s PracticeStore) {
	ctx := context.Background()
	at := time.Now()
	entry := func(i int) practice.AuditEntry {
		return practice.AuditEntry{At: at, ActorID: 1, ActorRole: practice.RoleDietician, Action: practice.ActionListDocuments,
			Outcome: practice.OutcomeSuccess, PatientID: int64(i%200 + 1), ClientAddr: "127.0.0.1",
			RequestID: "0f8fad5b-d9cb-469f-a165-70867728950e", Detail: "50 documents"}
	}
	fmt.Printf("Audit appends, %s: %d entries a batch size, one writer\n", db, BenchAuditEntries)
	for _, size := range []int{1, 16, 64, 256} {
		batch := make([]practice.AuditEntry, size)
		r, err := loadtest.Run(BenchAuditEntries/size, 1, func(i int) error {
			for j := range batch {
				batch[j] = entry(i*size + j)
			}
			return s.Write(ctx, func(tx practice.Tx) error { return tx.AppendAudit(ctx, batch...) })
		})
		require.NoError(b, err)
		perEntry := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(r.Calls*size) }
		fmt.Printf("  %3d a batch: %6.1f us an entry elapsed, CPU %5.1f us here, %5.1f us in all\n", size,
			perEntry(r.Elapsed), perEntry(r.ProcessCPU), perEntry(r.MachineCPU))
		b.ReportMetric(perEntry(r.MachineCPU), "cpu-us/entry-"+strconv.Itoa(size))
	}
}
