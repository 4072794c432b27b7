package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/healthcare-records/healthcare-records/connector"
)

// progressChannel is the LISTEN/NOTIFY channel progress travels on.
const progressChannel = "hr_progress"

// ProgressBus is a connector.ProgressBus shared by every process on one
// database: a snapshot published in one process reaches subscribers in
// all of them, through PostgreSQL's LISTEN/NOTIFY.
//
// Publish never blocks: subscribers in the publishing process get the
// snapshot at once; for the others, snapshots wait to be sent in order, and
// when they pile up (the database is slow or away) only the latest of each
// run is kept, so a progress bar may skip steps but always reaches its last
// state once the database answers. Notifications a process misses while its
// listening connection is down are lost; the listener reconnects by itself.
type ProgressBus struct {
	pool   *pgxpool.Pool
	origin string
	local  connector.Hub

	mu      sync.Mutex
	pending []connector.Progress
	wake    chan struct{}

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// maxPendingProgress bounds the snapshots waiting to be sent.
const maxPendingProgress = 1024

var _ connector.ProgressBus = (*ProgressBus)(nil)

// NewProgressBus starts a bus on the pool's database. It listens on a
// connection of its own, outside the pool. Close stops it.
func NewProgressBus(pool *pgxpool.Pool) *ProgressBus {
	var id [8]byte
	rand.Read(id[:])
	ctx, cancel := context.WithCancel(context.Background())
	b := &ProgressBus{pool: pool, origin: hex.EncodeToString(id[:]), wake: make(chan struct{}, 1), cancel: cancel}
	b.done.Add(2)
	go func() { defer b.done.Done(); b.send(ctx) }()
	go func() { defer b.done.Done(); b.listen(ctx) }()
	return b
}

// notice is a snapshot on the wire, tagged with the process that sent it.
type notice struct {
	Origin string             `json:"o"`
	P      connector.Progress `json:"p"`
}

// Publish implements connector.ProgressBus.
func (b *ProgressBus) Publish(p connector.Progress) {
	b.local.Publish(p)
	b.mu.Lock()
	if len(b.pending) >= maxPendingProgress {
		b.pending = compact(b.pending)
		if len(b.pending) >= maxPendingProgress {
			b.pending = b.pending[1:]
		}
	}
	b.pending = append(b.pending, p)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// compact keeps only the latest snapshot of each run, in publishing order.
func compact(ps []connector.Progress) []connector.Progress {
	last := make(map[string]int, len(ps))
	for i, p := range ps {
		last[p.Run] = i
	}
	out := ps[:0:0]
	for i, p := range ps {
		if last[p.Run] == i {
			out = append(out, p)
		}
	}
	return out
}

// Subscribe implements connector.ProgressBus.
func (b *ProgressBus) Subscribe(patientID int64) (<-chan connector.Progress, func()) {
	return b.local.Subscribe(patientID)
}

// Close stops sending and listening. Snapshots not yet sent are dropped.
func (b *ProgressBus) Close() {
	b.cancel()
	b.done.Wait()
}

func (b *ProgressBus) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		}
		for {
			b.mu.Lock()
			batch := b.pending
			b.pending = nil
			b.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			if err := b.notify(ctx, batch); err != nil {
				if ctx.Err() != nil {
					return
				}
				// Put the batch back, ahead of anything newer, and wait
				// for the database.
				b.mu.Lock()
				b.pending = compact(append(batch, b.pending...))
				b.mu.Unlock()
				if !sleep(ctx, time.Second) {
					return
				}
			}
		}
	}
}

// notify sends a batch in one round trip; NOTIFY payloads are small
// (under 8,000 bytes), which a snapshot always is.
func (b *ProgressBus) notify(ctx context.Context, batch []connector.Progress) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	payloads := make([]string, len(batch))
	for i, p := range batch {
		buf, err := json.Marshal(notice{Origin: b.origin, P: p})
		if err != nil {
			return err
		}
		payloads[i] = string(buf)
	}
	_, err := b.pool.Exec(ctx, "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload", progressChannel, payloads)
	return err
}

func (b *ProgressBus) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := b.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		_ = err // the connection broke; reconnect after a pause
		if !sleep(ctx, time.Second) {
			return
		}
	}
}

func (b *ProgressBus) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, b.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+progressChannel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var in notice
		if json.Unmarshal([]byte(n.Payload), &in) != nil || in.Origin == b.origin {
			continue
		}
		b.local.Publish(in.P)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
