package sqlite

import "github.com/healthcare-records/healthcare-records/store"

var _ store.TxConcurrency = (*backend)(nil)

// TxConcurrency implements store.TxConcurrency: the store's one connection
// runs one transaction at a time, so the Ingester forms one group at a time.
func (b *backend) TxConcurrency() int { return 1 }
